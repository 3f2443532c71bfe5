#!/usr/bin/env bash
# Restore a backup made by scripts/backup_db.sh into the database at $DATABASE_URL.
#
#   DATABASE_URL=postgresql://user:pass@host/db scripts/restore_db.sh [--force] FILE.dump.gz
#
# Refuses to touch a database that already has tables unless --force is given; with
# --force, the objects in the backup replace their namesakes. All or nothing: the restore
# runs in one transaction.
set -euo pipefail

die() { echo "restore_db: $*" >&2; exit 1; }
usage() { die "usage: DATABASE_URL=... $0 [--force] BACKUP.dump.gz"; }

force=false
file=""
for arg in "$@"; do
  case "$arg" in
    --force) force=true ;;
    -h | --help) usage ;;
    -*) die "unknown option $arg" ;;
    *) [ -z "$file" ] || usage; file=$arg ;;
  esac
done
[ -n "$file" ] || usage
[ -f "$file" ] || die "no such backup file: $file"
gzip -t "$file" 2>/dev/null || die "$file is not a gzip file"

[ -n "${DATABASE_URL:-}" ] || die "DATABASE_URL is not set"
case "$DATABASE_URL" in
  postgres://* | postgresql://* | postgresql+*://*) ;;
  *) die "DATABASE_URL is not a PostgreSQL URL" ;;
esac
url=$(printf '%s' "$DATABASE_URL" | sed -E 's#^postgresql\+[a-z0-9_]+://#postgresql://#')

tables=$(psql "$url" -XAtc "SELECT count(*) FROM information_schema.tables
  WHERE table_schema NOT IN ('pg_catalog', 'information_schema')") \
  || die "cannot connect to the database"
if [ "$tables" -gt 0 ] && [ "$force" != true ]; then
  die "refusing to restore over a non-empty database ($tables tables); use --force to replace them"
fi

gzip -dc "$file" | pg_restore --dbname="$url" --clean --if-exists --no-owner \
  --single-transaction --exit-on-error
echo "restored $file"
