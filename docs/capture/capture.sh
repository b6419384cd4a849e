#!/usr/bin/env bash
# Captures the requests and responses quoted in docs/entra-id.md and docs/okta.md.
# Usage: MODE=entra|okta capture.sh BIN OUTDIR
# BIN is the scimitar binary; OUTDIR is created afresh (absolute path). Needs port
# 8080 (and 9099 for the webhook receiver) free, curl, python3 and sqlite3. Takes
# about a minute.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=$1
OUT=$2
if [ -e "$OUT" ]; then echo "$OUT exists; give a new directory" >&2; exit 1; fi
mkdir -p "$OUT"; cd "$OUT"
export SCIMITAR_DATABASE_URL=sqlite://scimitar.db
PORT=8080
B=http://127.0.0.1:$PORT/scim/v2

"$BIN" serve > serve.out 2> serve.err &
echo $! > serve.pid
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.2; done
# Standard output is a file here, so the first token went to scimitar-first-token.
TOKEN=$(grep -o 'scim_[0-9a-f_]*' scimitar-first-token | head -1)
echo "$TOKEN" > token

# req NAME METHOD URL [BODY] [extra curl args...]: NAME.txt holds the request and
# the response (status, headers worth showing, pretty body); NAME.json the body.
req() {
  local name=$1 method=$2 url=$3 body=${4:-}
  shift $(( $# < 4 ? $# : 4 ))
  local args=(-sS -i -X "$method" "$url" -H "Authorization: ${AUTHZ:-Bearer ${AUTH:-$TOKEN}}" -H 'Accept: application/scim+json' "$@")
  if [ -n "$body" ]; then args+=(-H "Content-Type: ${CTYPE:-application/scim+json}" --data-binary "$body"); fi
  {
    echo "\$ $method ${url#http://127.0.0.1:$PORT}"
    if [ -n "$body" ]; then echo "$body"; fi
    echo
    curl "${args[@]}" | python3 "$HERE/show.py" "$name.json"
  } > "$name.txt"
}
jid() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$1.json"; }

ENT=urn:ietf:params:scim:schemas:extension:enterprise:2.0:User
PATCHOP='"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]'
cli() { # cli NAME ARGS...: the command and its output
  local name=$1; shift
  { echo "\$ scimitar $*"; "$BIN" "$@" 2>&1; } > "$name.txt"
}

entra() {
python3 "$HERE/receiver.py" 9099 "$OUT/webhook.jsonl" &
echo $! > receiver.pid
cli entra-w01-webhook webhook add default http://127.0.0.1:9099/scim-events
cli entra-w02-webhooks webhook list default
# Test Connection, then a wrong token.
req e01-test-connection GET "$B/Users?filter=userName+eq+%22b4b7e0a1-7f51-4c2b-9d0e-3f2a6c8e1d55%22"
AUTH=scim_0000000000000000_0000 req e02-wrong-token GET "$B/Users?filter=userName+eq+%22b4b7e0a1-7f51-4c2b-9d0e-3f2a6c8e1d55%22"
req e03-schemas GET "$B/Schemas"
req e04-flag-url GET "$B/Users?aadOptscim062020&filter=userName+eq+%22b4b7e0a1-7f51-4c2b-9d0e-3f2a6c8e1d55%22"

# The hire-date override.
retype_cost_center

# Matching, then creates.
req e10-match-upn GET "$B/Users?filter=userName+eq+%22adele.vance%40contoso.com%22"
req e11-match-external GET "$B/Users?filter=externalId+eq+%2248d31887-5fad-4d73-a9f5-3c356e68a038%22"
req e12-create-megan POST "$B/Users" '{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "'$ENT'"],
  "externalId": "48d31887-5fad-4d73-a9f5-3c356e68a038",
  "userName": "megan.bowen@contoso.com",
  "active": true,
  "displayName": "Megan Bowen",
  "emails": [{"primary": true, "type": "work", "value": "megan.bowen@contoso.com"}],
  "meta": {"resourceType": "User"},
  "name": {"formatted": "Megan Bowen", "familyName": "Bowen", "givenName": "Megan"},
  "roles": [],
  "'$ENT'": {"department": "Sales", "organization": "Contoso", "costCenter": "2019-09-02T08:00:00Z"}
}'
MEGAN=$(jid e12-create-megan)
req e13-create-adele POST "$B/Users" '{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "'$ENT'"],
  "externalId": "0a21f0f2-8d2a-4f8e-bf98-7a3c1b2d9e10",
  "userName": "adele.vance@contoso.com",
  "active": true,
  "displayName": "Adele Vance",
  "emails": [{"primary": true, "type": "work", "value": "adele.vance@contoso.com"}],
  "meta": {"resourceType": "User"},
  "name": {"formatted": "Adele Vance", "familyName": "Vance", "givenName": "Adele"},
  "roles": [],
  "'$ENT'": {"department": "Sales", "organization": "Contoso", "costCenter": "2027-03-01T08:00:00Z"}
}'
ADELE=$(jid e13-create-adele)
req e14-manager PATCH "$B/Users/$ADELE" '{'"$PATCHOP"', "Operations": [{"op": "Add", "path": "'$ENT':manager", "value": "'$MEGAN'"}]}'
req e15-update PATCH "$B/Users/$ADELE" '{'"$PATCHOP"', "Operations": [
  {"op": "Replace", "path": "displayName", "value": "Adele Vance-Wilber"},
  {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "adele.wilber@contoso.com"},
  {"op": "Replace", "path": "'$ENT':department", "value": "Marketing"}]}'
req e16-duplicate POST "$B/Users" '{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ADELE.VANCE@contoso.com", "active": true}'
req e17-bad-hire-date POST "$B/Users" '{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "'$ENT'"], "userName": "lee.gu@contoso.com", "'$ENT'": {"costCenter": "CC-4100"}}'
req e18-unknown-manager PATCH "$B/Users/$ADELE" '{'"$PATCHOP"', "Operations": [{"op": "Replace", "path": "'$ENT':manager", "value": "00000000-0000-0000-0000-000000000000"}]}'

# Groups.
req e20-group-match GET "$B/Groups?excludedAttributes=members&filter=displayName+eq+%22Sales%22"
req e21-group-create POST "$B/Groups" '{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
  "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
  "displayName": "Sales",
  "members": []
}'
SALES=$(jid e21-group-create)
req e22-group-add PATCH "$B/Groups/$SALES" '{'"$PATCHOP"', "Operations": [{"op": "Add", "path": "members", "value": [{"$ref": null, "value": "'$ADELE'"}, {"$ref": null, "value": "'$MEGAN'"}]}]}'
req e23-group-remove PATCH "$B/Groups/$SALES" '{'"$PATCHOP"', "Operations": [{"op": "Remove", "path": "members", "value": [{"value": "'$MEGAN'"}]}]}'
req e24-group-read GET "$B/Groups/$SALES"

# Disable (default mode), then the same with the flag's forms.
req e30-disable PATCH "$B/Users/$ADELE" '{'"$PATCHOP"', "Operations": [{"op": "Replace", "path": "active", "value": "False"}]}'
req e31-disabled-found GET "$B/Users?filter=userName+eq+%22adele.vance%40contoso.com%22"
req e32-flag-enable PATCH "$B/Users/$ADELE" '{'"$PATCHOP"', "Operations": [{"op": "replace", "value": {"active": true, "name.givenName": "Adèle", "'$ENT':department": "Sales"}}]}'
req e33-flag-remove-member PATCH "$B/Groups/$SALES" '{'"$PATCHOP"', "Operations": [{"op": "remove", "path": "members[value eq \"'$ADELE'\"]"}]}'

# Delete.
req e40-delete DELETE "$B/Users/$MEGAN"
req e41-deleted GET "$B/Users/$MEGAN"
req e42-adele-after GET "$B/Users/$ADELE"

tenant_admin
sleep 12   # webhook deliveries: the supervisor looks for new webhooks every 10 s
kill "$(cat receiver.pid)"
}

okta() {
OK=(-H 'User-Agent: Okta SCIM Client 1.0.0')
req o01-test GET "$B/Users?count=1&startIndex=1" "" "${OK[@]}"
req o02-groups GET "$B/Groups?count=1&startIndex=1" "" "${OK[@]}"
AUTHZ=non-token req o03-non-token GET "$B/Users?count=1&startIndex=1" "" "${OK[@]}"
retype_cost_center
req o10-match GET "$B/Users?filter=userName+eq+%22isaiah.langer%40contoso.com%22&startIndex=1&count=100" "" "${OK[@]}"
CTYPE=application/json req o11-create POST "$B/Users" '{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "'$ENT'"],
  "userName": "isaiah.langer@contoso.com",
  "name": {"givenName": "Isaiah", "familyName": "Langer"},
  "emails": [{"primary": true, "value": "isaiah.langer@contoso.com", "type": "work"}],
  "displayName": "Isaiah Langer",
  "locale": "en-US",
  "externalId": "00u1a2b3c4d5e6f7g8h9",
  "groups": [],
  "password": "tVbu3W5vR!",
  "active": true,
  "'$ENT'": {"department": "Sales", "organization": "Contoso", "costCenter": "2027-04-05T09:00:00+02:00"}
}' "${OK[@]}"
ISAIAH=$(jid o11-create)
req o12-get GET "$B/Users/$ISAIAH" "" "${OK[@]}"
python3 - "$ISAIAH" <<'PY' > put.json
import json, sys
user = json.load(open("o12-get.json"))
user["name"]["familyName"] = "Langer-Smith"
user["displayName"] = "Isaiah Langer-Smith"
user["groups"] = []
print(json.dumps(user))
PY
req o13-put PUT "$B/Users/$ISAIAH" "$(cat put.json)" "${OK[@]}"
req o14-deactivate PATCH "$B/Users/$ISAIAH" '{'"$PATCHOP"', "Operations": [{"op": "replace", "value": {"active": false}}]}' "${OK[@]}"
req o15-reactivate PATCH "$B/Users/$ISAIAH" '{'"$PATCHOP"', "Operations": [{"op": "replace", "value": {"active": true}}]}' "${OK[@]}"
req o16-import GET "$B/Users?startIndex=1&count=100" "" "${OK[@]}"
req o17-unknown GET "$B/Users/010101010101" "" "${OK[@]}"
req o20-group-create POST "$B/Groups" '{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Field Sales", "members": []}' "${OK[@]}"
G=$(jid o20-group-create)
req o21-group-rename PATCH "$B/Groups/$G" '{'"$PATCHOP"', "Operations": [{"op": "replace", "value": {"id": "'$G'", "displayName": "Field Sales EMEA"}}]}' "${OK[@]}"
req o22-group-members PATCH "$B/Groups/$G" '{'"$PATCHOP"', "Operations": [{"op": "add", "path": "members", "value": [{"value": "'$ISAIAH'", "display": "isaiah.langer@contoso.com"}]}]}' "${OK[@]}"
req o23-group-delete DELETE "$B/Groups/$G" "" "${OK[@]}"
tenant_admin
}

wait_cache() { sleep 1.5; }   # running servers see directory changes within a second

cat > hire-date.json <<'JSON'
{
  "id": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
  "attributes": [{
    "name": "costCenter",
    "type": "dateTime",
    "description": "The first day at work (the hire date)."
  }]
}
JSON

# The hire-date override, then a moment for the running server to see it.
retype_cost_center() {
  cli ${MODE}-c01-override tenant settings default --schema-override hire-date.json
  wait_cache
  req ${MODE}-c02-schema-after GET "$B/Schemas/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
}

# Teams from departments, token rotation, archive mode, errors, the log.
tenant_admin() {
  req ${MODE}-c10-more-user POST "$B/Users" '{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "'$ENT'"], "userName": "alex.wilber@contoso.com", "displayName": "Alex Wilber", "active": true, "'$ENT'": {"department": "Sales", "organization": "Contoso"}}'
  req ${MODE}-c11-more-user POST "$B/Users" '{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "'$ENT'"], "userName": "lynne.robbins@contoso.com", "displayName": "Lynne Robbins", "active": true, "'$ENT'": {"department": "Finance", "organization": "Contoso"}}'
  LYNNE=$(jid ${MODE}-c11-more-user)
  cli ${MODE}-c12-teams tenant settings default --teams department
  cli ${MODE}-c13-issue token issue default --label ${MODE}-2027
  NEW=$(sed -n 2p ${MODE}-c13-issue.txt)
  cli ${MODE}-c14-list token list default
  OLDID=$(echo "$TOKEN" | cut -d_ -f2)
  cli ${MODE}-c15-revoke token revoke "$OLDID"
  cli ${MODE}-c16-archive tenant settings default --deletion archive
  wait_cache
  OLD=$TOKEN
  TOKEN=$NEW
  AUTH=$OLD req ${MODE}-c20-revoked GET "$B/Users?count=1"
  AUTH=scim_0123456789abcdef_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef req ${MODE}-c21-unknown-token GET "$B/Users?count=1"
  req ${MODE}-c22-teams GET "$B/Groups?excludedAttributes=members"
  req ${MODE}-c23-team GET "$B/Groups?filter=displayName+eq+%22Contoso+%2F+Sales%22"
  req ${MODE}-c24-group-write POST "$B/Groups" '{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Sales"}'
  req ${MODE}-c25-delete DELETE "$B/Users/$LYNNE"
  req ${MODE}-c26-deleted GET "$B/Users/$LYNNE"
  req ${MODE}-c27-teams-after GET "$B/Groups?excludedAttributes=members"
  { echo "\$ sqlite3 scimitar.db \"SELECT id, datetime(archived_at / 1000000000, 'unixepoch'), json_extract(resource, '\$.userName') FROM archived_resources\""
    sqlite3 scimitar.db "SELECT id, datetime(archived_at / 1000000000, 'unixepoch'), json_extract(resource, '\$.userName') FROM archived_resources"; } > ${MODE}-c28-archived.txt 2>&1
  req ${MODE}-c29-bad-filter GET "$B/Users?filter=employeeType+eq+%22x%22"
  req ${MODE}-c30-bad-filter2 GET "$B/Users?filter=userName+eq+"
  # Disabled tenant, another tenant's URL, rate limit.
  cli ${MODE}-c40-other tenant add contoso-test
  OTHER=$("$BIN" token issue contoso-test --label test 2>&1)
  AUTH=$OTHER req ${MODE}-c41-wrong-tenant GET "http://127.0.0.1:$PORT/tenants/default/scim/v2/Users?count=1"
  cli ${MODE}-c42-rate tenant settings default --rate-limit 1
  cli ${MODE}-c43-disable tenant disable contoso-test
  wait_cache
  AUTH=$OTHER req ${MODE}-c44-disabled GET "$B/Users?count=1"
  for i in 1 2 3 4 5 6; do req ${MODE}-c45-rate-$i GET "$B/Users?count=1"; done
  cli ${MODE}-c46-rate-off tenant settings default --rate-limit 0
  cli ${MODE}-c50-log log default --limit 6
  cli ${MODE}-c51-log-errors log default --errors --limit 12
}

MODE=${MODE:-entra}
$MODE
kill "$(cat serve.pid)"
wait 2>/dev/null
echo done
