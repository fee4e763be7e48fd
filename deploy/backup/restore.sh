#!/usr/bin/env bash
# Restore a node from a backup made by backup.sh into an EMPTY database and store, then
# bring the schema to the running code's level.
#   HUB_DATABASE_URL=... HUB_STORE_URL=... ./restore.sh /backups/20261121T020000Z
set -euo pipefail
src=${1:?usage: restore.sh BACKUP_DIR}
(cd "$src" && sha256sum --quiet -c MANIFEST.sha256)
url=${HUB_DATABASE_URL/postgresql+psycopg:/postgresql:}
pg_restore --exit-on-error --no-owner --dbname="$url" "$src/hub.dump"
case "${HUB_STORE_URL:?}" in
  s3://*) aws s3 sync --only-show-errors "$src/payloads" "$HUB_STORE_URL" ;;
  file://*) mkdir -p "${HUB_STORE_URL#file://}" && rsync -a "$src/payloads/" "${HUB_STORE_URL#file://}/" ;;
esac
hub db upgrade
hub check ops || true   # review relay backlog and freshness after the restore
