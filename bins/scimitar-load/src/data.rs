//! The benchmark's data: Entra-shaped users and groups, derived from an index so that
//! any worker can rebuild any user's `userName` or `externalId` without shared state.

use serde_json::{json, Value};

/// The enterprise extension schema URN.
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

const GIVEN_NAMES: &[&str] = &[
    "Ada",
    "Alan",
    "Barbara",
    "Brian",
    "Carol",
    "Claude",
    "Dennis",
    "Donald",
    "Edsger",
    "Frances",
    "Grace",
    "Hedy",
    "Ivan",
    "Jean",
    "John",
    "Katherine",
    "Ken",
    "Leslie",
    "Linus",
    "Margaret",
    "Niklaus",
    "Radia",
    "Richard",
    "Shafi",
    "Sophie",
    "Tim",
    "Vint",
    "Whitfield",
    "Yukihiro",
    "Zhores",
];

/// Family names; their three-letter prefixes are distinct, so a `sw` query on one
/// prefix matches one name (about 10,000 / 50 = 200 users).
pub const FAMILY_NAMES: &[&str] = &[
    "Abbott",
    "Baker",
    "Carter",
    "Dawson",
    "Ellis",
    "Fischer",
    "Garcia",
    "Hughes",
    "Ingram",
    "Jensen",
    "Keller",
    "Lopez",
    "Martin",
    "Nakamura",
    "Olsen",
    "Patel",
    "Quinn",
    "Reyes",
    "Schmidt",
    "Tanaka",
    "Ulrich",
    "Vargas",
    "Walker",
    "Xavier",
    "Young",
    "Zimmerman",
    "Andersen",
    "Bianchi",
    "Costa",
    "Dubois",
    "Eriksson",
    "Fontaine",
    "Gonzalez",
    "Hansen",
    "Ivanova",
    "Johansson",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Novak",
    "Okafor",
    "Petrov",
    "Rossi",
    "Sato",
    "Torres",
    "Urban",
    "Volkov",
    "Wagner",
    "Yamamoto",
    "Zhang",
];

const DEPARTMENTS: &[&str] = &[
    "Engineering",
    "Sales",
    "Marketing",
    "Finance",
    "Legal",
    "Support",
    "Operations",
    "Research",
];

const CITIES: &[(&str, &str, &str, &str)] = &[
    ("Redmond", "WA", "98052", "US"),
    ("Seattle", "WA", "98101", "US"),
    ("Dublin", "", "D02 X285", "IE"),
    ("Munich", "BY", "80331", "DE"),
    ("Tokyo", "", "100-0001", "JP"),
];

/// SplitMix64: a tiny, fast, well-mixed generator; good enough to pick random users.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// A number in `0..bound` (0 when `bound` is 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        if bound == 0 {
            0
        } else {
            self.next_u64() % bound
        }
    }
}

/// The SplitMix64 finaliser: spreads the bits of `x`.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The entry of `list` that `key` selects (empty if `list` is).
pub fn pick<'a>(list: &[&'a str], key: u64) -> &'a str {
    let len = list.len() as u64;
    usize::try_from(key % len.max(1))
        .ok()
        .and_then(|at| list.get(at))
        .copied()
        .unwrap_or_default()
}

/// The given name of user `index`.
pub fn given_name(index: u64) -> &'static str {
    pick(GIVEN_NAMES, mix(index ^ 0x51))
}

/// The family name of user `index`.
pub fn family_name(index: u64) -> &'static str {
    pick(FAMILY_NAMES, mix(index ^ 0xFA))
}

/// The `userName` of user `index`: a UPN, unique by its index.
pub fn user_name(index: u64) -> String {
    format!(
        "{}.{}.{index}@contoso.example",
        given_name(index).to_ascii_lowercase(),
        family_name(index).to_ascii_lowercase()
    )
}

/// The `externalId` of user `index`: an Entra object id (a GUID).
pub fn external_id(index: u64) -> String {
    let bits = mix(index ^ 0xE1D);
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        bits >> 32,
        (bits >> 16) & 0xFFFF,
        bits & 0xFFF,
        index & 0xFFF,
        index
    )
}

/// The body Entra ID sends to create user `index` (about 1 KB).
pub fn user(index: u64) -> Value {
    let given = given_name(index);
    let family = family_name(index);
    let user_name = user_name(index);
    let key = mix(index);
    let (city, region, postal_code, country) = CITIES
        .get(usize::try_from(key % CITIES.len() as u64).unwrap_or_default())
        .copied()
        .unwrap_or(("Redmond", "WA", "98052", "US"));
    let street = format!("{} Main Street", 1 + key % 999);
    let phone = format!("+1 425 555 {:04}", index % 10_000);
    let mobile = format!("+1 206 555 {:04}", (index * 7) % 10_000);
    json!({
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            ENTERPRISE,
        ],
        "externalId": external_id(index),
        "userName": user_name,
        "active": true,
        "displayName": format!("{given} {family}"),
        "title": "Software Engineer",
        "preferredLanguage": "en-US",
        "name": {
            "formatted": format!("{given} {family}"),
            "familyName": family,
            "givenName": given,
        },
        "emails": [{ "value": user_name, "type": "work", "primary": true }],
        "phoneNumbers": [
            { "value": phone, "type": "work" },
            { "value": mobile, "type": "mobile" },
        ],
        "addresses": [{
            "type": "work",
            "formatted": format!("{street}, {city} {postal_code}, {country}"),
            "streetAddress": street,
            "locality": city,
            "region": region,
            "postalCode": postal_code,
            "country": country,
            "primary": true,
        }],
        "roles": [],
        ENTERPRISE: {
            "employeeNumber": format!("{:06}", 100_000 + index),
            "costCenter": format!("CC-{}", 100 + key % 50),
            "organization": "Contoso",
            "division": "Cloud + AI",
            "department": pick(DEPARTMENTS, key >> 8),
        },
        // Entra sends this read-only attribute; a server must ignore it.
        "meta": { "resourceType": "User" },
    })
}

/// The body creating group `index` with the given member ids.
pub fn group(index: u64, member_ids: &[String]) -> Value {
    let members: Vec<Value> = member_ids.iter().map(|id| json!({ "value": id })).collect();
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": format!("Team {index:03}"),
        "externalId": format!("group-{index:03}"),
        "members": members,
    })
}

/// A PATCH request body with the given operations.
pub fn patch(operations: Value) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": operations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_are_about_one_kilobyte_and_unique() {
        let len = serde_json::to_vec(&user(42)).unwrap().len();
        assert!((900..1300).contains(&len), "{len} bytes");
        assert_ne!(user_name(1), user_name(2));
        assert_ne!(external_id(1), external_id(2));
        assert_eq!(user(7)["userName"], user_name(7));
    }

    #[test]
    fn family_name_prefixes_are_distinct() {
        let mut prefixes: Vec<&str> = FAMILY_NAMES.iter().map(|name| &name[..3]).collect();
        prefixes.sort_unstable();
        prefixes.dedup();
        assert_eq!(prefixes.len(), FAMILY_NAMES.len());
    }

    #[test]
    fn rng_stays_below_its_bound() {
        let mut rng = Rng::new(1);
        assert!((0..1000).all(|_| rng.below(7) < 7));
        assert_eq!(rng.below(0), 0);
    }
}
