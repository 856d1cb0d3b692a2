-- name: viewer_role
-- The role of the profile behind a token; no row on first sight.
SELECT role::text AS role
FROM profiles
WHERE id = $1

-- name: insert_profile
-- First sight of a token's subject: create its profile unless it (or its username) exists.
INSERT INTO profiles (id, username, display_name, role, created_at, updated_at)
VALUES ($1, $2, $3, 'user', $4, $4)
ON CONFLICT DO NOTHING

-- name: profiles_by_ids
-- Profiles for a batch of ids (order is restored by the caller).
SELECT id, username, display_name, avatar_url
FROM profiles
WHERE id = ANY($1::uuid[])
