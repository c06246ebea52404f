#!/usr/bin/env bash
# Nightly backup (README, "Production"): the database in PostgreSQL's custom format and the
# uploaded files. Run as the renewaldesk user from cron or a systemd timer; keep copies off the
# machine. With FILE_STORAGE=s3 back up the bucket with the storage provider's versioning or
# replication instead of the rsync line.
set -euo pipefail
set -a; . /etc/renewaldesk.env; set +a
target=${BACKUP_DIR:-/var/backups/renewaldesk}/$(date +%Y-%m-%d)
mkdir -p "$target"
pg_dump --format=custom --no-owner --file="$target/renewaldesk.dump" "$DATABASE_URL"
rsync -a --delete "${MEDIA_ROOT:-/srv/renewaldesk/media}/" "$target/media/"
echo "backup written to $target"
