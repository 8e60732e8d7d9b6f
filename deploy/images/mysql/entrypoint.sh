#!/bin/bash
# Starts MySQL 8.0 for binlake's tests: initialises /var/lib/mysql on first start
# (--initialize-insecure), makes root (localhost and %) use mysql_native_password with
# $MYSQL_ROOT_PASSWORD, enables GTIDs and full row images/metadata, listens on $MYSQL_TCP_PORT.
# mysqld runs as the unprivileged user mysql. Extra arguments are passed to mysqld and override
# the defaults below.
set -euo pipefail
base=/opt/mysql
datadir=/var/lib/mysql
run=/run/mysqld
mkdir -p "$datadir" "$run"
chown mysql:mysql "$datadir" "$run"
if [[ ! -d "$datadir/mysql" ]]; then
	"$base/bin/mysqld" --no-defaults --initialize-insecure --user=mysql --basedir="$base" \
		--datadir="$datadir" >/tmp/initialize.log 2>&1 || { cat /tmp/initialize.log; exit 1; }
fi
pw="${MYSQL_ROOT_PASSWORD//\'/\'\'}"
cat >"$run/init.sql" <<SQL
CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED WITH mysql_native_password BY '$pw';
ALTER USER 'root'@'%' IDENTIFIED WITH mysql_native_password BY '$pw';
ALTER USER 'root'@'localhost' IDENTIFIED WITH mysql_native_password BY '$pw';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;
FLUSH PRIVILEGES;
SQL
chown mysql:mysql "$run/init.sql"
exec "$base/bin/mysqld" --no-defaults --user=mysql --basedir="$base" --datadir="$datadir" \
	--socket="$run/mysqld.sock" --mysqlx=OFF --pid-file="$run/mysqld.pid" \
	--port="${MYSQL_TCP_PORT:-3306}" --bind-address=127.0.0.1 --skip-name-resolve \
	--init-file="$run/init.sql" \
	--server-id="${MYSQL_SERVER_ID:-1}" --log-bin=mysql-bin --binlog-format=ROW \
	--binlog-row-image=FULL --binlog-row-metadata=FULL \
	--gtid-mode=ON --enforce-gtid-consistency=ON \
	--default-authentication-plugin=mysql_native_password \
	--character-set-server=utf8mb4 --innodb-buffer-pool-size=128M --max-connections=500 \
	--log-error-verbosity=2 \
	"$@"
