-- A user's email, matched (lowercase) with the verified email of a
-- single sign-on identity to link it; empty matches nothing.
ALTER TABLE auth_users ADD COLUMN email TEXT NOT NULL DEFAULT '';
