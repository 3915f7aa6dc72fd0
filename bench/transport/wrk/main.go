package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	transportbench "github.com/paved-road/paved/bench/transport"
)

// serverCmd and wrkCmd prefix the server's and wrk's command lines (taskset with -pin).
var serverCmd, wrkCmd []string

type result struct {
	rps, p99Ms, cpuUsPerReq, rssMiB float64
}

func main() {
	rounds := flag.Int("rounds", 4, "rounds; each runs every variant once, interleaved, starting with the next variant each round")
	duration := flag.Duration("duration", 10*time.Second, "measured wrk run per variant and round")
	warmup := flag.Duration("warmup", 2*time.Second, "wrk warm-up before each measured run")
	conns := flag.Int("connections", 32, "wrk connections")
	threads := flag.Int("threads", 1, "wrk threads")
	addr := flag.String("addr", "127.0.0.1:23180", "loopback address of the server")
	wrk := flag.String("wrk", "/usr/bin/wrk", "wrk binary")
	pin := flag.Bool("pin", false, "run the server on CPU 0 and wrk on CPU 1 (taskset), so they do not take turns on one core")
	flag.Parse()
	if *pin {
		serverCmd = []string{"taskset", "-c", "0"}
		wrkCmd = []string{"taskset", "-c", "1"}
	}
	if err := run(*rounds, *duration, *warmup, *conns, *threads, *addr, *wrk); err != nil {
		fmt.Fprintln(os.Stderr, "wrk:", err)
		os.Exit(1)
	}
}

func run(rounds int, duration, warmup time.Duration, conns, threads int, addr, wrk string) error {
	dir, err := os.MkdirTemp("", "transportbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "server")
	build := exec.Command("go", "build", "-o", bin, "./bench/transport/server")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building the server (run from the module root): %w", err)
	}
	results := map[string][]result{}
	for r := range rounds {
		// Each round starts with the next variant, so that over len(Variants) rounds
		// every variant runs in every position: drift within a round favours none.
		n := len(transportbench.Variants)
		order := append(slices.Clone(transportbench.Variants[r%n:]), transportbench.Variants[:r%n]...)
		for _, v := range order {
			res, err := measure(bin, v, addr, wrk, duration, warmup, conns, threads)
			if err != nil {
				return fmt.Errorf("round %d, %s: %w", r+1, v, err)
			}
			fmt.Fprintf(os.Stderr, "round %d %-14s %9.0f req/s  p99 %6.2f ms  %6.2f µs CPU/req  RSS %5.1f MiB\n", r+1, v, res.rps, res.p99Ms, res.cpuUsPerReq, res.rssMiB)
			results[v] = append(results[v], res)
		}
	}
	fmt.Printf("wrk -t%d -c%d -d%s, %d rounds interleaved, medians; ratio to bare in brackets\n", threads, conns, duration, rounds)
	if len(serverCmd) > 0 {
		fmt.Printf("pinned: server %v, wrk %v\n", serverCmd, wrkCmd)
	}
	fmt.Println("| variant | requests/s | p99 | server CPU/request | RSS |")
	fmt.Println("| --- | --- | --- | --- | --- |")
	base := median(results["bare"])
	for _, v := range transportbench.Variants {
		m := median(results[v])
		fmt.Printf("| %s | %.0f (%.2f×) | %.2f ms (%.2f×) | %.2f µs (%.2f×) | %.1f MiB (%.2f×) |\n", v,
			m.rps, m.rps/base.rps, m.p99Ms, m.p99Ms/base.p99Ms, m.cpuUsPerReq, m.cpuUsPerReq/base.cpuUsPerReq, m.rssMiB, m.rssMiB/base.rssMiB)
	}
	// Each round's CPU/request against bare of the same round: the machine's load moves
	// between rounds more than within one.
	fmt.Println()
	fmt.Println("| variant | CPU/request ÷ bare, per round | median |")
	fmt.Println("| --- | --- | --- |")
	for _, v := range transportbench.Variants {
		ratios := make([]float64, rounds)
		cells := make([]string, rounds)
		for r := range rounds {
			ratios[r] = results[v][r].cpuUsPerReq / results["bare"][r].cpuUsPerReq
			cells[r] = fmt.Sprintf("%.2f", ratios[r])
		}
		sorted := slices.Sorted(slices.Values(ratios))
		fmt.Printf("| %s | %s | %.2f× |\n", v, strings.Join(cells, ", "), sorted[len(sorted)/2])
	}
	return nil
}

func measure(bin, variant, addr, wrk string, duration, warmup time.Duration, conns, threads int) (result, error) {
	srv := command(serverCmd, bin, "-variant", variant, "-addr", addr)
	stdout, err := srv.StdoutPipe()
	if err != nil {
		return result{}, err
	}
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		return result{}, err
	}
	defer func() {
		_ = srv.Process.Signal(syscall.SIGTERM)
		_ = srv.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ready") {
		return result{}, fmt.Errorf("server did not start: %q %v", line, err)
	}
	url := "http://" + addr + "/items/42"
	if _, err := runWrk(wrk, url, warmup, conns, threads); err != nil {
		return result{}, err
	}
	cpu0, err := cpuTicks(srv.Process.Pid)
	if err != nil {
		return result{}, err
	}
	out, err := runWrk(wrk, url, duration, conns, threads)
	if err != nil {
		return result{}, err
	}
	cpu1, err := cpuTicks(srv.Process.Pid)
	if err != nil {
		return result{}, err
	}
	rss, err := rssKiB(srv.Process.Pid)
	if err != nil {
		return result{}, err
	}
	total, rps, p99, err := parseWrk(out)
	if err != nil {
		return result{}, err
	}
	// /proc/<pid>/stat counts in clock ticks: USER_HZ, 100 on Linux.
	cpuUs := float64(cpu1-cpu0) / 100 * 1e6
	return result{rps: rps, p99Ms: p99, cpuUsPerReq: cpuUs / float64(total), rssMiB: float64(rss) / 1024}, nil
}

func runWrk(wrk, url string, d time.Duration, conns, threads int) (string, error) {
	out, err := command(wrkCmd, wrk, "-t"+strconv.Itoa(threads), "-c"+strconv.Itoa(conns),
		"-d"+strconv.Itoa(int(d.Seconds()))+"s", "--latency", url).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("wrk: %w: %s", err, out)
	}
	return string(out), nil
}

var (
	reTotal = regexp.MustCompile(`(\d+) requests in`)
	reRPS   = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	reP99   = regexp.MustCompile(`\s99%\s+([\d.]+)(us|ms|s)`)
	reBad   = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)|Socket errors`)
)

func parseWrk(out string) (total int64, rps, p99Ms float64, err error) {
	if m := reBad.FindString(out); m != "" {
		return 0, 0, 0, fmt.Errorf("wrk saw errors (%s):\n%s", m, out)
	}
	mt, mr, mp := reTotal.FindStringSubmatch(out), reRPS.FindStringSubmatch(out), reP99.FindStringSubmatch(out)
	if mt == nil || mr == nil || mp == nil {
		return 0, 0, 0, errors.New("cannot parse wrk output:\n" + out)
	}
	total, _ = strconv.ParseInt(mt[1], 10, 64)
	rps, _ = strconv.ParseFloat(mr[1], 64)
	p99Ms, _ = strconv.ParseFloat(mp[1], 64)
	switch mp[2] {
	case "us":
		p99Ms /= 1000
	case "s":
		p99Ms *= 1000
	}
	return total, rps, p99Ms, nil
}

func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name (which may hold spaces) start after the last ')'.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	// utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return ut + st, nil
}

func rssKiB(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, errors.New("no VmRSS in /proc/status")
}

func median(rs []result) result {
	pick := func(f func(result) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	return result{
		rps:         pick(func(r result) float64 { return r.rps }),
		p99Ms:       pick(func(r result) float64 { return r.p99Ms }),
		cpuUsPerReq: pick(func(r result) float64 { return r.cpuUsPerReq }),
		rssMiB:      pick(func(r result) float64 { return r.rssMiB }),
	}
}

// command runs name with args under the prefix (taskset), if any. taskset execs the
// program, so the process id is the program's.
func command(prefix []string, name string, args ...string) *exec.Cmd {
	if len(prefix) == 0 {
		return exec.Command(name, args...)
	}
	return exec.Command(prefix[0], append(append(prefix[1:len(prefix):len(prefix)], name), args...)...)
}
