//! The app's tables, for Diesel (`migrations/`).

// `diesel::table!` generates modules and types without docs.
#![allow(missing_docs)]

diesel::table! {
    organizations (id) {
        id -> Text,
        name -> Text,
        seats -> Nullable<BigInt>,
    }
}

diesel::table! {
    users (pk) {
        pk -> BigInt,
        id -> Text,
        org -> Text,
        login -> Text,
        login_key -> Text,
        first_name -> Nullable<Text>,
        last_name -> Nullable<Text>,
        email -> Nullable<Text>,
        active -> Nullable<Bool>,
        manager_id -> Nullable<Text>,
        hire_date -> Nullable<Text>,
        department -> Nullable<Text>,
        external_id -> Nullable<Text>,
        profile -> Text,
        revision -> BigInt,
        created_at -> Text,
        updated_at -> Text,
    }
}

diesel::table! {
    teams (pk) {
        pk -> BigInt,
        id -> Text,
        org -> Text,
        name -> Text,
        external_id -> Nullable<Text>,
        revision -> BigInt,
        created_at -> Text,
        updated_at -> Text,
    }
}

diesel::table! {
    team_members (pk) {
        pk -> BigInt,
        team_id -> Text,
        user_id -> Nullable<Text>,
        child_team_id -> Nullable<Text>,
        label -> Nullable<Text>,
    }
}

diesel::table! {
    api_keys (pk) {
        pk -> BigInt,
        org -> Text,
        label -> Text,
        key_sha256 -> Text,
        revoked -> Bool,
    }
}

diesel::table! {
    audit_log (pk) {
        pk -> BigInt,
        org -> Text,
        at -> Text,
        actor -> Text,
        action -> Text,
        subject -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    organizations,
    users,
    teams,
    team_members,
    api_keys,
    audit_log
);
