#!/bin/bash
# Starts MariaDB for binlake's tests: initialises /var/lib/mysql on first start, makes root
# (localhost and %) use mysql_native_password with $MYSQL_ROOT_PASSWORD, listens on
# $MYSQL_TCP_PORT. Extra arguments are passed to mariadbd and override the defaults below.
set -euo pipefail
datadir=/var/lib/mysql
mkdir -p "$datadir" /run/mysqld
chown mysql:mysql "$datadir" /run/mysqld
if [[ ! -d "$datadir/mysql" ]]; then
	mariadb-install-db --user=mysql --datadir="$datadir" --auth-root-authentication-method=normal \
		--skip-test-db --skip-name-resolve >/tmp/install-db.log 2>&1 || { cat /tmp/install-db.log; exit 1; }
fi
pw="${MYSQL_ROOT_PASSWORD//\'/\'\'}"
# mariadb-install-db also creates password-less root@127.0.0.1, root@::1 and root@<hostname>,
# which would shadow root@% for TCP clients: drop them.
cat >/run/mysqld/init.sql <<SQL
DROP USER IF EXISTS 'root'@'127.0.0.1', 'root'@'::1', 'root'@'$(hostname)';
CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('$pw');
ALTER USER 'root'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('$pw');
ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('$pw');
GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;
FLUSH PRIVILEGES;
SQL
chown mysql:mysql /run/mysqld/init.sql
exec mariadbd --user=mysql --datadir="$datadir" --socket=/run/mysqld/mysqld.sock \
	--port="${MYSQL_TCP_PORT:-3306}" --bind-address=127.0.0.1 --skip-name-resolve \
	--init-file=/run/mysqld/init.sql \
	--server-id="${MYSQL_SERVER_ID:-1}" --log-bin=mysql-bin --binlog-format=ROW \
	--binlog-row-image=FULL --binlog-row-metadata=FULL \
	--character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
	--innodb-buffer-pool-size=128M --max-connections=500 \
	"$@"
