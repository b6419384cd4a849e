-- The app's own tables, as it had them before SCIM: organizations (customers) on
-- plans with a number of seats, their people, teams, API keys and an audit log.

CREATE TABLE organizations (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    seats INTEGER                      -- NULL: unlimited
);

CREATE TABLE users (
    pk INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    id TEXT NOT NULL UNIQUE,           -- public id (a UUID)
    org TEXT NOT NULL,
    login TEXT NOT NULL,
    login_key TEXT NOT NULL,           -- lower-cased login: logins ignore case
    first_name TEXT,
    last_name TEXT,
    email TEXT,
    active BOOLEAN,                    -- NULL: never set, counts as active
    manager_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    hire_date TEXT,
    department TEXT,
    external_id TEXT,                  -- the SSO directory's id
    profile TEXT NOT NULL DEFAULT '{}', -- other profile fields, JSON
    revision INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (org, login_key)
);

CREATE TABLE teams (
    pk INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    id TEXT NOT NULL UNIQUE,
    org TEXT NOT NULL,
    name TEXT NOT NULL,
    external_id TEXT,
    revision INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- A member is a user or a team (teams nest).
CREATE TABLE team_members (
    pk INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
    child_team_id TEXT REFERENCES teams (id) ON DELETE CASCADE,
    label TEXT                         -- how the member is shown in this team, if set
);
CREATE INDEX team_members_user ON team_members (user_id);
CREATE INDEX team_members_child ON team_members (child_team_id);

CREATE TABLE api_keys (
    pk INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    org TEXT NOT NULL,
    label TEXT NOT NULL,
    key_sha256 TEXT NOT NULL UNIQUE,
    revoked BOOLEAN NOT NULL DEFAULT 0
);

CREATE TABLE audit_log (
    pk INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    org TEXT NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL
);
