#!/usr/bin/env bash
# Back up the PostgreSQL database at $DATABASE_URL.
#
#   DATABASE_URL=postgresql://user:pass@host/db scripts/backup_db.sh
#
# Writes $BACKUP_DIR/<database>-<UTC timestamp>.dump.gz (pg_dump custom format, gzipped;
# BACKUP_DIR defaults to ./backups), prints its path, then deletes backups older than
# $BACKUP_RETENTION_DAYS days (30). Restore with scripts/restore_db.sh.
set -euo pipefail

die() { echo "backup_db: $*" >&2; exit 1; }

[ -n "${DATABASE_URL:-}" ] || die "DATABASE_URL is not set"
case "$DATABASE_URL" in
  postgres://* | postgresql://* | postgresql+*://*) ;;
  *) die "DATABASE_URL is not a PostgreSQL URL (for SQLite, copy the file under instance/)" ;;
esac
# libpq does not know SQLAlchemy's driver suffix (postgresql+psycopg2://).
url=$(printf '%s' "$DATABASE_URL" | sed -E 's#^postgresql\+[a-z0-9_]+://#postgresql://#')

backup_dir=${BACKUP_DIR:-./backups}
retention_days=${BACKUP_RETENTION_DAYS:-30}
[[ "$retention_days" =~ ^[0-9]+$ ]] || die "BACKUP_RETENTION_DAYS must be a whole number"
mkdir -p "$backup_dir"

database=$(psql "$url" -XAtc 'SELECT current_database()') || die "cannot connect to the database"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
target="$backup_dir/$database-$stamp.dump.gz"
partial="$target.partial"
trap 'rm -f "$partial"' EXIT

# Custom format (pg_restore can pick and reorder objects); gzip does the compression.
pg_dump --dbname="$url" --format=custom --compress=0 --no-owner | gzip -6 >"$partial"
mv "$partial" "$target"
echo "$target"

find "$backup_dir" -maxdepth 1 -type f -name '*.dump.gz' -mmin +$((retention_days * 1440)) \
  -print -delete | sed 's/^/deleted (older than '"$retention_days"' days): /' >&2
