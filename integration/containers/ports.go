package containers

import (
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
)

var (
	portsMu sync.Mutex
	handed  = map[int]bool{} // ports already given to a server of this test binary
)

// freePort returns a 127.0.0.1 TCP port that is free now and was not handed out before.
func freePort() (int, error) {
	return freePortGroup(0, 0)
}

// freePortGroup returns a port p such that every port in [p-below, p+above] is free on
// 127.0.0.1 (RocketMQ's broker binds listenPort-2 and listenPort+1 besides listenPort).
func freePortGroup(below, above int) (int, error) {
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 200 {
		p := 20000 + below + rand.IntN(12000) // below the ephemeral range (32768+)
		ok := true
		for q := p - below; q <= p+above && ok; q++ {
			ok = !handed[q] && portFree(q)
		}
		if !ok {
			continue
		}
		for q := p - below; q <= p+above; q++ {
			handed[q] = true
		}
		return p, nil
	}
	return 0, fmt.Errorf("finding %d free consecutive ports on 127.0.0.1", below+above+1)
}

func portFree(p int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}
