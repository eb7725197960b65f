#!/usr/bin/env bash
# The scale-out rig (docs/scaling.md, "The scale-out rig"): on this one Linux machine, hosts made
# of network namespaces joined by veth pairs to a bridge, each with its own address:
#
#   etcd    10.77.0.10  etcd (Patroni's consensus store)
#   db1     10.77.0.11  Patroni + PostgreSQL 15
#   db2     10.77.0.12  Patroni + PostgreSQL 15 (synchronous replica)
#   ha      10.77.0.20  HAProxy: :5432 the leader (Patroni's /primary), :5433 the replica (/replica)
#   app1    10.77.0.31  jinlin serve --workers 2
#   app2    10.77.0.32  jinlin serve --workers 2
#   lb      10.77.0.40  nginx: :80 over app1 and app2, passive health checks
#   client  10.77.0.50  the load generator and the checks (deploy/scaleout/fault.py)
#
# The bridge lives in a namespace of its own (jlso-sw): the host's own network (its interfaces,
# routes and firewall) is never touched. Every part comes from Debian packages, installed when
# missing. Everything the run makes (namespaces, processes, /var/tmp/jinlin-scaleout) is removed
# when it ends, also when interrupted; a run after one that was killed outright removes what that
# one left first.
#
#   deploy/scaleout/run.sh            the full run (make scaleout)
#   deploy/scaleout/run.sh --short    a short one (CI)
#   deploy/scaleout/run.sh --check    only say whether this machine can run it (exit 0) or not (exit 2)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
MODE=full
case "${1:-}" in
  --short) MODE=short ;;
  --check) MODE=check ;;
  "") ;;
  *) echo "usage: $0 [--short|--check]" >&2; exit 64 ;;
esac

PREFIX=jlso
NET=10.77.0
SUBNET=$NET.0/24
BASE=/var/tmp/jinlin-scaleout
STATE=/run/jinlin-scaleout.state
HOSTS=(etcd db1 db2 ha app1 app2 lb client)
declare -A ADDR=([etcd]=10 [db1]=11 [db2]=12 [ha]=20 [app1]=31 [app2]=32 [lb]=40 [client]=50)
PACKAGES=(postgresql-15 patroni etcd-server nginx-light haproxy curl)
PG_BIN=/usr/lib/postgresql/15/bin
PYTHON="$ROOT/.venv/bin/python"
JINLIN="$ROOT/.venv/bin/jinlin"

say() { echo "scaleout: $*"; }
refuse() { echo "scaleout: not running: $*" >&2; exit 2; }
ns() { echo "$PREFIX-$1"; }
in_ns() { local host=$1; shift; ip netns exec "$(ns "$host")" "$@"; }

# ------------------------------------------------------------------ may it run here?

preflight() {
  [ "$(uname -s)" = Linux ] || refuse "network namespaces need Linux"
  [ "$(id -u)" = 0 ] || refuse "network namespaces need root (run as root, e.g. sudo make scaleout)"
  command -v ip >/dev/null || refuse "iproute2's ip command is missing"
  if [ "$MODE" != check ]; then
    [ -x "$PYTHON" ] || refuse "the project's virtualenv is missing ($PYTHON): run make setup first"
  fi
  local probe="$PREFIX-probe-$$"
  ip netns add "$probe" 2>/dev/null || refuse "cannot create a network namespace here (a container without CAP_SYS_ADMIN?)"
  if ! ip netns exec "$probe" ip link add probe0 type bridge 2>/dev/null; then
    ip netns del "$probe"
    refuse "cannot create a bridge inside a network namespace"
  fi
  if ! ip -n "$probe" link add probe1 type veth peer name probe2 2>/dev/null; then
    ip netns del "$probe"
    refuse "cannot create veth pairs"
  fi
  ip netns del "$probe"

  # An earlier run killed outright (no trap ran) left its state file: remove what it made.
  if [ -f "$STATE" ]; then
    local pid
    pid=$(cat "$STATE")
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q "run.sh" "/proc/$pid/cmdline" 2>/dev/null; then
      refuse "another run is going (pid $pid)"
    fi
    say "an earlier run (pid $pid) did not finish: removing what it left"
    teardown
  fi
  # Names and addresses this run would take must be free: never take over someone else's.
  local name
  for name in sw "${HOSTS[@]}"; do
    if ip netns list | awk '{print $1}' | grep -qx "$(ns "$name")"; then
      refuse "network namespace $(ns "$name") exists and is not this script's"
    fi
  done
  if ip -4 route show table all | grep -v '^default' | grep -q "^\(local \|broadcast \)\?$NET\."; then
    refuse "$SUBNET is in use on this machine's network (ip route): pick another range in $0"
  fi
  if ip -4 route show table all match "$NET.1" | grep -v '^default' | grep -q .; then
    refuse "a route of this machine covers $SUBNET: pick another range in $0"
  fi
  if ip -4 -o addr show | grep -q " $NET\."; then
    refuse "an address in $SUBNET is on this machine's interfaces"
  fi
  [ ! -e "$BASE" ] || refuse "$BASE exists and is not this script's"
}

# ------------------------------------------------------------------ packages

install_packages() {
  local missing=() package
  for package in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  # nginx-full or nginx provide the same binary as nginx-light.
  if [[ " ${missing[*]} " == *" nginx-light "* ]] && command -v nginx >/dev/null; then
    missing=("${missing[@]/nginx-light/}")
  fi
  missing=($(printf '%s\n' "${missing[@]}" | grep . || true))
  [ "${#missing[@]}" = 0 ] && return 0
  say "installing Debian packages: ${missing[*]}"
  # The packages' own services (nginx on port 80, a default PostgreSQL cluster, etcd) must not
  # start on the host: policy-rc.d tells invoke-rc.d not to start anything while they install.
  local policy=/usr/sbin/policy-rc.d made_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made_policy=1
  fi
  local ok=1
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >"$BASE.apt.log" 2>&1; then
    apt-get update -q >>"$BASE.apt.log" 2>&1 || true
    apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$BASE.apt.log" 2>&1 || ok=""
  fi
  [ -n "$made_policy" ] && rm -f "$policy"
  if [ -z "$ok" ]; then
    tail -20 "$BASE.apt.log" >&2
    echo "scaleout: FAILED: apt-get could not install ${missing[*]} (log above, whole in $BASE.apt.log)" >&2
    exit 3
  fi
  rm -f "$BASE.apt.log"
}

# ------------------------------------------------------------------ clean-up

stop_namespace_processes() {
  local name=$1 signal=$2 pids
  pids=$(ip netns pids "$name" 2>/dev/null || true)
  [ -n "$pids" ] && kill "-$signal" $pids 2>/dev/null || true
}

teardown() {
  local name host index
  for ((index = ${#HOSTS[@]} - 1; index >= 0; index--)); do  # the client first, etcd last
    name=$(ns "${HOSTS[$index]}")
    ip netns list | awk '{print $1}' | grep -qx "$name" && stop_namespace_processes "$name" TERM
  done
  sleep 1
  for host in "${HOSTS[@]}" sw; do
    name=$(ns "$host")
    if ip netns list | awk '{print $1}' | grep -qx "$name"; then
      for _ in 1 2 3 4 5 6 7 8 9 10; do
        [ -z "$(ip netns pids "$name" 2>/dev/null)" ] && break
        sleep 0.5
      done
      stop_namespace_processes "$name" KILL
      ip netns del "$name" 2>/dev/null || true
    fi
  done
  rm -rf "$BASE"
  rm -f "$STATE"
}

on_exit() {
  local code=$?
  trap - EXIT INT TERM
  if [ -n "${KEEP:-}" ]; then
    say "KEEP is set: leaving everything up (remove with: $0 and an interrupt, or ip netns del)"
    exit "$code"
  fi
  say "cleaning up (namespaces, processes, $BASE)"
  teardown
  exit "$code"
}

# ------------------------------------------------------------------ hosts

build_network() {
  ip netns add "$(ns sw)"
  ip -n "$(ns sw)" link set lo up
  ip -n "$(ns sw)" link add br0 type bridge
  ip -n "$(ns sw)" link set br0 up
  local host
  for host in "${HOSTS[@]}"; do
    ip netns add "$(ns "$host")"
    ip -n "$(ns "$host")" link set lo up
    ip -n "$(ns sw)" link add "v-$host" type veth peer name eth0 netns "$(ns "$host")"
    ip -n "$(ns sw)" link set "v-$host" master br0 up
    ip -n "$(ns "$host")" addr add "$NET.${ADDR[$host]}/24" dev eth0
    ip -n "$(ns "$host")" link set eth0 up
  done
}

# Runs a long-lived process inside a host, its output in $BASE/<host>/<name>.log.
start_in() {
  local host=$1 name=$2; shift 2
  mkdir -p "$BASE/$host"
  ip netns exec "$(ns "$host")" setsid "$@" >>"$BASE/$host/$name.log" 2>&1 </dev/null &
}

wait_for() {
  local what=$1 seconds=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "scaleout: FAILED: $what not ready within ${seconds}s" >&2
      return 1
    fi
    sleep 0.5
  done
}

start_etcd() {
  local ip=$NET.${ADDR[etcd]}
  start_in etcd etcd etcd --name etcd --data-dir "$BASE/etcd/data" \
    --listen-client-urls "http://$ip:2379" --advertise-client-urls "http://$ip:2379" \
    --listen-peer-urls "http://$ip:2380" --initial-advertise-peer-urls "http://$ip:2380" \
    --initial-cluster "etcd=http://$ip:2380" --initial-cluster-state new
  wait_for etcd 30 in_ns client curl -sf "http://$ip:2379/health"
}

patroni_config() {
  local node=$1 ip=$NET.${ADDR[$1]}
  cat <<EOF
scope: jinlin
name: $node
namespace: /jinlin-scaleout/
log:
  level: INFO
restapi:
  listen: $ip:8008
  connect_address: $ip:8008
etcd3:
  hosts: $NET.${ADDR[etcd]}:2379
bootstrap:
  dcs:
    # A leader that stops renewing its key is replaced within ttl seconds; a primary whose
    # PostgreSQL dies is failed over at once (primary_start_timeout 0) to the synchronous
    # replica, which holds every commit acknowledged to a client.
    ttl: 20
    loop_wait: 2
    retry_timeout: 5
    primary_start_timeout: 0
    synchronous_mode: true
    maximum_lag_on_failover: 1048576
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters:
        max_connections: 400
        wal_log_hints: "on"
        wal_keep_size: 512MB
        max_wal_senders: 10
        max_replication_slots: 10
        shared_buffers: 128MB
        synchronous_commit: "on"
        hot_standby: "on"
  initdb:
    - encoding: UTF8
    - data-checksums
postgresql:
  listen: $ip:5432
  connect_address: $ip:5432
  data_dir: $BASE/$node/data
  bin_dir: $PG_BIN
  pgpass: $BASE/$node/pgpass
  authentication:
    superuser: {username: postgres, password: $SUPER_PASSWORD}
    replication: {username: replicator, password: $REPL_PASSWORD}
    rewind: {username: rewinder, password: $REWIND_PASSWORD}
  parameters:
    unix_socket_directories: $BASE/$node
  pg_hba:
    - local all all trust
    - host replication replicator $SUBNET scram-sha-256
    - host all all $SUBNET scram-sha-256
EOF
}

start_patroni() {
  local node=$1
  mkdir -p "$BASE/$node"
  patroni_config "$node" >"$BASE/$node/patroni.yml"
  chown -R postgres:postgres "$BASE/$node"
  chmod 700 "$BASE/$node"
  start_in "$node" patroni runuser -u postgres -- patroni "$BASE/$node/patroni.yml"
}

start_haproxy() {
  mkdir -p "$BASE/ha"
  cat >"$BASE/ha/haproxy.cfg" <<EOF
global
  maxconn 4000
defaults
  mode tcp
  timeout connect 2s
  timeout client 1h
  timeout server 1h
  timeout check 2s
  option tcpka
# Writes: the node whose Patroni answers 200 on /primary (the leader). A node marked down loses
# its open connections at once (on-marked-down shutdown-sessions), so no client keeps writing to
# a demoted primary and the app's pools reconnect to the new one.
listen primary
  bind $NET.${ADDR[ha]}:5432
  option httpchk OPTIONS /primary
  http-check expect status 200
  default-server inter 1s fastinter 500ms fall 2 rise 1 on-marked-down shutdown-sessions
  server db1 $NET.${ADDR[db1]}:5432 check port 8008
  server db2 $NET.${ADDR[db2]}:5432 check port 8008
# Reports: the streaming replica (/replica answers 200 on a running replica).
listen replica
  bind $NET.${ADDR[ha]}:5433
  option httpchk OPTIONS /replica
  http-check expect status 200
  default-server inter 1s fastinter 500ms fall 2 rise 1 on-marked-down shutdown-sessions
  server db1 $NET.${ADDR[db1]}:5432 check port 8008
  server db2 $NET.${ADDR[db2]}:5432 check port 8008
listen stats
  bind $NET.${ADDR[ha]}:8404
  mode http
  stats enable
  stats uri /
EOF
  start_in ha haproxy haproxy -db -f "$BASE/ha/haproxy.cfg"
}

start_nginx() {
  mkdir -p "$BASE/lb/tmp"
  chmod 777 "$BASE/lb/tmp"
  cat >"$BASE/lb/nginx.conf" <<EOF
worker_processes 1;
pid $BASE/lb/nginx.pid;
error_log $BASE/lb/error.log warn;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $BASE/lb/tmp/body;
  proxy_temp_path $BASE/lb/tmp/proxy;
  fastcgi_temp_path $BASE/lb/tmp/fastcgi;
  uwsgi_temp_path $BASE/lb/tmp/uwsgi;
  scgi_temp_path $BASE/lb/tmp/scgi;
  # Passive health checks: a host that fails twice (refused, reset, timed out) is left alone for
  # 5 s, then tried again.
  upstream jinlin {
    server $NET.${ADDR[app1]}:8000 max_fails=2 fail_timeout=5s;
    server $NET.${ADDR[app2]}:8000 max_fails=2 fail_timeout=5s;
    keepalive 64;
  }
  server {
    listen $NET.${ADDR[lb]}:80;
    location / {
      proxy_pass http://jinlin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_connect_timeout 1s;
      proxy_read_timeout 60s;
      # Another host is tried only where that is safe: a connection that failed or was refused
      # (the request never reached a host), and a GET or HEAD that failed on the way. nginx never
      # resends a POST that reached a host (no non_idempotent here): the client retries it with
      # the same idempotency key instead.
      proxy_next_upstream error timeout http_502 http_503;
      proxy_next_upstream_tries 2;
      proxy_next_upstream_timeout 5s;
    }
  }
}
EOF
  start_in lb nginx nginx -p "$BASE/lb" -c "$BASE/lb/nginx.conf"
}

write_app_env() {
  cat >"$BASE/app.env" <<EOF
DATABASE_URL=postgresql+asyncpg://jinlin:$APP_PASSWORD@$NET.${ADDR[ha]}:5432/jinlin
DATABASE_REPLICA_URL=postgresql+asyncpg://jinlin:$APP_PASSWORD@$NET.${ADDR[ha]}:5433/jinlin
JINLIN_SECRET_KEY=$SECRET_KEY
JINLIN_SECURE_COOKIES=0
JINLIN_JOBS_IN_PROCESS=0
JINLIN_TRUSTED_PROXIES=$NET.${ADDR[lb]}
EOF
}

# The command that starts (or restarts, after fault.py killed it) an app host: jinlin serve under
# a loop that starts it again when it exits, as a service manager would (Restart=always).
write_app_start() {
  local host=$1
  mkdir -p "$BASE/$host/data"
  cat >"$BASE/$host/start.sh" <<EOF
#!/usr/bin/env bash
cd "$ROOT"
ip netns exec $(ns "$host") setsid env \$(grep -v '^#' "$BASE/app.env" | xargs) JINLIN_DATA_DIR="$BASE/$host/data" \\
  bash -c 'while true; do "$JINLIN" serve --host $NET.${ADDR[$host]} --port 8000 --workers 2; echo "serve exited (\$?); starting it again"; sleep 1; done' \\
  >>"$BASE/$host/serve.log" 2>&1 </dev/null &
EOF
  chmod +x "$BASE/$host/start.sh"
}

# Runs a command inside a host with the app's settings.
app_env_in() {
  local host=$1; shift
  mkdir -p "$BASE/$host/data"
  ip netns exec "$(ns "$host")" env $(grep -v '^#' "$BASE/app.env" | xargs) JINLIN_DATA_DIR="$BASE/$host/data" "$@"
}

# ------------------------------------------------------------------ the run

main() {
  preflight
  if [ "$MODE" = check ]; then
    say "this machine can run the rig (root, network namespaces, bridges and veth pairs, $SUBNET free)"
    exit 0
  fi
  echo $$ >"$STATE"
  trap on_exit EXIT
  trap 'say "interrupted"; exit 130' INT TERM
  install_packages
  mkdir -p "$BASE"
  chmod 755 "$BASE"
  SUPER_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  REPL_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  REWIND_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  APP_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  SECRET_KEY=$(head -c 48 /dev/urandom | base64 | tr -d '/+=')
  build_network
  say "hosts up: ${HOSTS[*]} on $SUBNET (bridge in namespace $(ns sw))"
  start_etcd
  start_patroni db1
  wait_for "the first PostgreSQL (db1 leader)" 90 in_ns client curl -sf "http://$NET.${ADDR[db1]}:8008/primary"
  start_patroni db2
  start_haproxy
  wait_for "the replica (db2)" 120 in_ns client curl -sf "http://$NET.${ADDR[db2]}:8008/replica"
  wait_for "the synchronous replica" 60 sh -c "ip netns exec $(ns client) curl -sf http://$NET.${ADDR[db1]}:8008/cluster | grep -q sync_standby"
  say "Patroni: db1 leader, db2 synchronous replica"
  PGPASSWORD=$SUPER_PASSWORD in_ns client psql -q -h "$NET.${ADDR[ha]}" -U postgres -d postgres -v ON_ERROR_STOP=1 \
    -c "CREATE ROLE jinlin LOGIN PASSWORD '$APP_PASSWORD'" -c "CREATE DATABASE jinlin OWNER jinlin"
  echo "$SUPER_PASSWORD" >"$BASE/superuser.password"
  chmod 600 "$BASE/superuser.password"
  write_app_env
  # One deployment, two hosts migrating at once: the advisory lock lets one migrate, the other waits.
  say "migrating from both app hosts at once:"
  (cd "$ROOT" && app_env_in app1 "$JINLIN" db upgrade 2>&1 | sed 's/^/  app1: /') &
  local first=$!
  (cd "$ROOT" && app_env_in app2 "$JINLIN" db upgrade 2>&1 | sed 's/^/  app2: /') &
  local second=$!
  wait "$first"
  wait "$second"
  write_app_start app1
  write_app_start app2
  "$BASE/app1/start.sh"
  "$BASE/app2/start.sh"
  start_nginx
  local host
  for host in app1 app2; do
    if ! wait_for "$host" 180 in_ns client curl -sf "http://$NET.${ADDR[$host]}:8000/readyz"; then
      tail -25 "$BASE/$host/serve.log" >&2
      exit 1
    fi
  done
  wait_for "nginx" 30 in_ns client curl -sf "http://$NET.${ADDR[lb]}/readyz"
  say "app1 and app2 serving behind nginx at http://$NET.${ADDR[lb]}"
  mkdir -p "$BASE/client"
  cd "$ROOT"
  # In the background and waited for, so that an interrupt is handled at once (bash runs a trap
  # only when its foreground command ends).
  app_env_in client "$PYTHON" deploy/scaleout/fault.py --mode "$MODE" --base "$BASE" --net "$NET" &
  wait $!
}

main
