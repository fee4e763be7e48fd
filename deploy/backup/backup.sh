#!/usr/bin/env bash
# Back up one node: a consistent database dump, then the payload store.
# Order matters: payloads are written before the rows that point at them, so a store copied
# after the dump holds every payload the dump references (extra payloads are harmless).
#   HUB_DATABASE_URL=postgresql://... HUB_STORE_URL=s3://bucket/prefix ./backup.sh /backups
set -euo pipefail
dest=${1:?usage: backup.sh DEST_DIR}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$dest/$stamp"
url=${HUB_DATABASE_URL/postgresql+psycopg:/postgresql:}
pg_dump --format=custom --no-owner --file="$dest/$stamp/hub.dump" "$url"
case "${HUB_STORE_URL:?}" in
  s3://*) aws s3 sync --only-show-errors "$HUB_STORE_URL" "$dest/$stamp/payloads" ;;
  file://*) rsync -a "${HUB_STORE_URL#file://}/" "$dest/$stamp/payloads/" ;;
  *) echo "unsupported store URL $HUB_STORE_URL" >&2; exit 2 ;;
esac
(cd "$dest/$stamp" && find . -type f -print0 | sort -z | xargs -0 sha256sum > MANIFEST.sha256)
echo "$dest/$stamp"
