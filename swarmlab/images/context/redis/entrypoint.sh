#!/bin/sh
# Run redis-server and, once it answers, record which task and node it is
# (key swarmlab:origin) so that web can say which redis task served it.
set -eu
setpriv --reuid=redis --regid=redis --init-groups \
  redis-server --bind 0.0.0.0 --protected-mode no --save '' --appendonly no &
pid=$!
trap 'kill -TERM $pid' TERM INT
i=0
until redis-cli ping >/dev/null 2>&1; do
  i=$((i + 1)); [ $i -lt 100 ] || { echo "redis: did not start" >&2; exit 1; }
  sleep 0.1
done
redis-cli set swarmlab:origin "${TASK_NAME:-$(hostname)}@${NODE_NAME:-unknown}" >/dev/null
wait $pid
