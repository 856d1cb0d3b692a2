-- Baseline: the core schema exactly as production has it (created by Prisma `db push`).
--
-- Names, types, defaults, constraints and indexes match production one for one so that an
-- existing database can be adopted (`vesper migrate --adopt`, i.e. this migration marked
-- applied without running) and a new database looks the same. Hence: no id defaults (the
-- server generates UUIDs), no updated_at defaults, uniques as unique indexes, no CHECKs.
-- Names are unqualified: objects land in the first schema of the search_path.

CREATE TYPE "UserRole" AS ENUM ('admin', 'user');

CREATE TABLE profiles (
    id uuid NOT NULL,
    username text,
    display_name text,
    avatar_url text,
    role "UserRole" NOT NULL DEFAULT 'user',
    created_at timestamp(3) without time zone NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at timestamp(3) without time zone NOT NULL,
    CONSTRAINT profiles_pkey PRIMARY KEY (id)
);

CREATE TABLE projects (
    id uuid NOT NULL,
    name text NOT NULL,
    description text,
    cover_image_url text,
    briefing text,
    owner_id uuid NOT NULL,
    is_shared boolean NOT NULL DEFAULT false,
    created_at timestamp(3) without time zone NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at timestamp(3) without time zone NOT NULL,
    CONSTRAINT projects_pkey PRIMARY KEY (id)
);

CREATE TABLE project_members (
    id uuid NOT NULL,
    project_id uuid NOT NULL,
    user_id uuid NOT NULL,
    role text NOT NULL,
    joined_at timestamp(3) without time zone NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT project_members_pkey PRIMARY KEY (id)
);

CREATE TABLE sessions (
    id uuid NOT NULL,
    project_id uuid NOT NULL,
    name text NOT NULL,
    type text NOT NULL,
    is_private boolean NOT NULL DEFAULT true,
    created_at timestamp(3) without time zone NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at timestamp(3) without time zone NOT NULL,
    CONSTRAINT sessions_pkey PRIMARY KEY (id)
);

CREATE TABLE generations (
    id uuid NOT NULL,
    session_id uuid NOT NULL,
    user_id uuid NOT NULL,
    model_id text NOT NULL,
    prompt text NOT NULL,
    negative_prompt text,
    parameters jsonb NOT NULL,
    status text NOT NULL,
    cost numeric(10, 6),
    created_at timestamp(3) without time zone NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT generations_pkey PRIMARY KEY (id)
);

CREATE TABLE generation_jobs (
    id uuid NOT NULL,
    generation_id uuid NOT NULL,
    run_after timestamp(3) without time zone,
    attempts integer NOT NULL DEFAULT 0,
    locked_at timestamp(3) without time zone,
    created_at timestamp(3) without time zone NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT generation_jobs_pkey PRIMARY KEY (id)
);

CREATE TABLE outputs (
    id uuid NOT NULL,
    generation_id uuid NOT NULL,
    file_url text NOT NULL,
    file_type text NOT NULL,
    width integer,
    height integer,
    duration double precision,
    is_starred boolean NOT NULL DEFAULT false,
    is_approved boolean NOT NULL DEFAULT false,
    created_at timestamp(3) without time zone NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT outputs_pkey PRIMARY KEY (id)
);

CREATE UNIQUE INDEX profiles_username_key ON profiles (username);

CREATE INDEX projects_owner_id_idx ON projects (owner_id);
CREATE INDEX projects_is_shared_owner_id_idx ON projects (is_shared, owner_id);
CREATE INDEX projects_updated_id_idx ON projects (updated_at DESC, id DESC);

CREATE INDEX project_members_project_id_idx ON project_members (project_id);
CREATE INDEX project_members_user_id_idx ON project_members (user_id);
CREATE UNIQUE INDEX project_members_project_id_user_id_key ON project_members (project_id, user_id);

CREATE INDEX sessions_project_id_idx ON sessions (project_id);
CREATE INDEX sessions_project_is_private_idx ON sessions (project_id, is_private);

CREATE INDEX generations_session_id_idx ON generations (session_id);
CREATE INDEX generations_user_id_idx ON generations (user_id);
CREATE INDEX generations_session_id_user_id_idx ON generations (session_id, user_id);
CREATE INDEX generations_session_id_status_idx ON generations (session_id, status);

CREATE UNIQUE INDEX generation_jobs_generation_id_key ON generation_jobs (generation_id);
CREATE INDEX generation_jobs_locked_at_idx ON generation_jobs (locked_at);
CREATE INDEX generation_jobs_run_after_idx ON generation_jobs (run_after);

CREATE INDEX outputs_generation_id_idx ON outputs (generation_id);
CREATE INDEX outputs_generation_id_file_type_idx ON outputs (generation_id, file_type);

ALTER TABLE projects ADD CONSTRAINT projects_owner_id_fkey
    FOREIGN KEY (owner_id) REFERENCES profiles (id) ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE project_members ADD CONSTRAINT project_members_project_id_fkey
    FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE project_members ADD CONSTRAINT project_members_user_id_fkey
    FOREIGN KEY (user_id) REFERENCES profiles (id) ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE sessions ADD CONSTRAINT sessions_project_id_fkey
    FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE generations ADD CONSTRAINT generations_session_id_fkey
    FOREIGN KEY (session_id) REFERENCES sessions (id) ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE generations ADD CONSTRAINT generations_user_id_fkey
    FOREIGN KEY (user_id) REFERENCES profiles (id) ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE generation_jobs ADD CONSTRAINT generation_jobs_generation_id_fkey
    FOREIGN KEY (generation_id) REFERENCES generations (id) ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE outputs ADD CONSTRAINT outputs_generation_id_fkey
    FOREIGN KEY (generation_id) REFERENCES generations (id) ON DELETE CASCADE ON UPDATE CASCADE;
