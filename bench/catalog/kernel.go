package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// kernelTCP are the kernel's TCP counters that show where new connections wait: the
// listen queue overflowing (a SYN or handshake dropped, which the client retries after
// a second) and sockets in TIME_WAIT. They are the network namespace's, not one
// process's: on a machine where other programs open connections, read them as an upper
// bound.
type kernelTCP struct {
	overflows, drops int64 // TcpExt ListenOverflows and ListenDrops, cumulative (a delta after since)
	timeWait         int64 // sockets in TIME_WAIT now
}

func (k kernelTCP) since(before kernelTCP) kernelTCP {
	return kernelTCP{overflows: k.overflows - before.overflows, drops: k.drops - before.drops, timeWait: k.timeWait}
}

func (k kernelTCP) String() string {
	return fmt.Sprintf("%d / %d / %d", k.overflows, k.drops, k.timeWait)
}

// readKernelTCP reads /proc/net/netstat and /proc/net/sockstat.
func readKernelTCP() (kernelTCP, error) {
	var k kernelTCP
	b, err := os.ReadFile("/proc/net/netstat")
	if err != nil {
		return k, err
	}
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || f[0] != "TcpExt:" {
			continue
		}
		if names == nil {
			names = f
			continue
		}
		for i := 1; i < len(f) && i < len(names); i++ {
			v, _ := strconv.ParseInt(f[i], 10, 64)
			switch names[i] {
			case "ListenOverflows":
				k.overflows = v
			case "ListenDrops":
				k.drops = v
			}
		}
	}
	if names == nil {
		return k, errors.New("no TcpExt lines in /proc/net/netstat")
	}
	b, err = os.ReadFile("/proc/net/sockstat")
	if err != nil {
		return k, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "TCP:" {
			continue
		}
		for i := 1; i+1 < len(f); i += 2 {
			if f[i] == "tw" {
				k.timeWait, _ = strconv.ParseInt(f[i+1], 10, 64)
			}
		}
	}
	return k, nil
}
