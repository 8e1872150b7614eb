-- Where a grant came from: '' given by an admin (phoenix user grant, user
-- add), 'oidc' given by the single sign-on group mapping, which takes it
-- back when the user leaves the group.
ALTER TABLE auth_grants ADD COLUMN source TEXT NOT NULL DEFAULT '';
