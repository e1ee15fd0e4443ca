-- Run once by the postgres image on an empty volume (docker-entrypoint-initdb.d).
-- POSTGRES_DB creates the service's database (handoff); Rasa's tracker store gets its own,
-- since Rasa's SQL tables would collide with nothing here but are managed by another program.
CREATE DATABASE rasa;
