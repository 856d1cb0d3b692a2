-- Demo dataset (db/ops/demo.py). Every insert is set-based: one statement per table, one array
-- per column, rows zipped by unnest(). Ids, updated_at and timestamps (naive UTC) come from
-- the caller, as production's conventions require.

-- name: lock_demo
-- Serialises concurrent demo loads until the end of the current transaction.
select pg_advisory_xact_lock($1::bigint)

-- name: find_demo_profiles
-- Profiles holding a demo id ($1) or a demo username ($2): is_demo tells which (idempotency
-- and conflict check).
select username, id = any($1::uuid[]) as is_demo
from profiles
where id = any($1::uuid[]) or username = any($2::text[])

-- name: insert_profiles
-- Inserts demo profiles: ($1 id, $2 username, $3 display_name, $4 avatar_url, $5 role,
-- $6 created_at, $7 updated_at), one array per column.
insert into profiles (id, username, display_name, avatar_url, role, created_at, updated_at)
select t.id, t.username, t.display_name, t.avatar_url, t.role::"UserRole", t.created_at,
       t.updated_at
from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamp[],
            $7::timestamp[])
     as t (id, username, display_name, avatar_url, role, created_at, updated_at)

-- name: insert_projects
-- Inserts demo projects: ($1 id, $2 name, $3 description, $4 cover_image_url, $5 briefing,
-- $6 owner_id, $7 is_shared, $8 created_at, $9 updated_at).
insert into projects (id, name, description, cover_image_url, briefing, owner_id, is_shared,
                      created_at, updated_at)
select t.id, t.name, t.description, t.cover_image_url, t.briefing, t.owner_id, t.is_shared,
       t.created_at, t.updated_at
from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::uuid[],
            $7::boolean[], $8::timestamp[], $9::timestamp[])
     as t (id, name, description, cover_image_url, briefing, owner_id, is_shared, created_at,
           updated_at)

-- name: insert_project_members
-- Inserts demo memberships: ($1 id, $2 project_id, $3 user_id, $4 role, $5 joined_at).
insert into project_members (id, project_id, user_id, role, joined_at)
select t.id, t.project_id, t.user_id, t.role, t.joined_at
from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::timestamp[])
     as t (id, project_id, user_id, role, joined_at)

-- name: insert_sessions
-- Inserts demo sessions: ($1 id, $2 project_id, $3 name, $4 type, $5 is_private,
-- $6 created_at, $7 updated_at).
insert into sessions (id, project_id, name, type, is_private, created_at, updated_at)
select t.id, t.project_id, t.name, t.type, t.is_private, t.created_at, t.updated_at
from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::boolean[], $6::timestamp[],
            $7::timestamp[])
     as t (id, project_id, name, type, is_private, created_at, updated_at)

-- name: insert_generations
-- Inserts demo generations: ($1 id, $2 session_id, $3 user_id, $4 model_id, $5 prompt,
-- $6 negative_prompt, $7 parameters as JSON text, $8 status, $9 cost, $10 created_at).
insert into generations (id, session_id, user_id, model_id, prompt, negative_prompt,
                         parameters, status, cost, created_at)
select t.id, t.session_id, t.user_id, t.model_id, t.prompt, t.negative_prompt,
       t.parameters::jsonb, t.status, t.cost, t.created_at
from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[],
            $7::text[], $8::text[], $9::numeric[], $10::timestamp[])
     as t (id, session_id, user_id, model_id, prompt, negative_prompt, parameters, status,
           cost, created_at)

-- name: insert_generation_jobs
-- Inserts demo jobs of queued and processing generations: ($1 id, $2 generation_id,
-- $3 run_after, $4 attempts, $5 locked_at, $6 created_at).
insert into generation_jobs (id, generation_id, run_after, attempts, locked_at, created_at)
select t.id, t.generation_id, t.run_after, t.attempts, t.locked_at, t.created_at
from unnest($1::uuid[], $2::uuid[], $3::timestamp[], $4::integer[], $5::timestamp[],
            $6::timestamp[])
     as t (id, generation_id, run_after, attempts, locked_at, created_at)

-- name: insert_outputs
-- Inserts demo outputs: ($1 id, $2 generation_id, $3 file_url, $4 file_type, $5 width,
-- $6 height, $7 duration, $8 is_starred, $9 is_approved, $10 created_at).
insert into outputs (id, generation_id, file_url, file_type, width, height, duration,
                     is_starred, is_approved, created_at)
select t.id, t.generation_id, t.file_url, t.file_type, t.width, t.height, t.duration,
       t.is_starred, t.is_approved, t.created_at
from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::integer[], $6::integer[],
            $7::double precision[], $8::boolean[], $9::boolean[], $10::timestamp[])
     as t (id, generation_id, file_url, file_type, width, height, duration, is_starred,
           is_approved, created_at)
