#!/bin/bash
# Runs a RocketMQ name server on 127.0.0.1:$NAMESRV_PORT and one broker on 127.0.0.1:$BROKER_PORT
# (the broker also binds $BROKER_PORT-2 and $BROKER_PORT+1). The container stops when either
# server stops. Extra arguments are appended to broker.conf as key=value lines.
set -euo pipefail
home=/var/lib/rocketmq
mkdir -p "$home/store" "$home/conf"
# tls.server.mode=disabled: otherwise every remoting server generates a self-signed RSA key at
# start, which takes tens of seconds on a busy 2-core machine.
java_opts=(-server -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError -Djava.net.preferIPv4Stack=true
	-Dtls.server.mode=disabled
	-Drocketmq.home.dir="$ROCKETMQ_HOME" -Duser.home="$home"
	--add-opens java.base/jdk.internal.ref=ALL-UNNAMED --add-opens java.base/java.nio=ALL-UNNAMED
	--add-opens java.base/java.util=ALL-UNNAMED --add-exports java.base/sun.nio.ch=ALL-UNNAMED
	-cp "$ROCKETMQ_HOME/lib/*")

cat >"$home/conf/namesrv.conf" <<CONF
listenPort=$NAMESRV_PORT
orderMessageEnable=true
CONF
cat >"$home/conf/broker.conf" <<CONF
brokerClusterName=DefaultCluster
brokerName=broker-a
brokerId=0
namesrvAddr=127.0.0.1:$NAMESRV_PORT
brokerIP1=127.0.0.1
listenPort=$BROKER_PORT
storePathRootDir=$home/store
storePathCommitLog=$home/store/commitlog
autoCreateTopicEnable=true
autoCreateSubscriptionGroup=true
brokerRole=ASYNC_MASTER
flushDiskType=ASYNC_FLUSH
mappedFileSizeCommitLog=134217728
diskMaxUsedSpaceRatio=95
CONF
for kv in "$@"; do echo "$kv" >>"$home/conf/broker.conf"; done

java -Xms"$NAMESRV_HEAP" -Xmx"$NAMESRV_HEAP" "${java_opts[@]}" \
	org.apache.rocketmq.namesrv.NamesrvStartup -c "$home/conf/namesrv.conf" &
namesrv=$!
for _ in $(seq 1 300); do
	if (exec 3<>"/dev/tcp/127.0.0.1/$NAMESRV_PORT") 2>/dev/null; then break; fi
	if ! kill -0 "$namesrv" 2>/dev/null; then echo "namesrv exited" >&2; exit 1; fi
	sleep 0.1
done
java -Xms"$BROKER_HEAP" -Xmx"$BROKER_HEAP" -XX:MaxDirectMemorySize=512m "${java_opts[@]}" \
	org.apache.rocketmq.broker.BrokerStartup -c "$home/conf/broker.conf" &
broker=$!
trap 'kill -TERM "$broker" "$namesrv" 2>/dev/null; wait' TERM INT
set +e
wait -n "$namesrv" "$broker"
status=$?
kill -TERM "$broker" "$namesrv" 2>/dev/null
wait
exit "$status"
