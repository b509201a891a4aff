// Command testserver is an echo server with injectable faults, for the
// conformance package's exec-mode specs.
//
//	testserver -port P [-die-after N] [-spawn] [-silent] [-flood-stderr]
//
// -die-after N kills the process with SIGKILL when the Nth connection
// arrives (the runner's readiness probe counts); -spawn starts a child
// "sleep 60" in the server's process group, to prove the runner kills the
// whole group; -silent accepts and never reads or writes; -flood-stderr
// writes to stderr without end.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"syscall"
)

func main() {
	port := flag.Int("port", 0, "port to listen on (127.0.0.1)")
	dieAfter := flag.Int("die-after", 0, "die with SIGKILL at the Nth connection (0 = never)")
	spawn := flag.Bool("spawn", false, "start a child process that sleeps")
	silent := flag.Bool("silent", false, "accept and never read or write")
	flood := flag.Bool("flood-stderr", false, "write to stderr forever")
	flag.Parse()
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		fmt.Fprintln(os.Stderr, "testserver:", err)
		os.Exit(1)
	}
	fmt.Println("testserver: listening on", ln.Addr())
	if *spawn {
		cmd := exec.Command("sleep", "60")
		if err := cmd.Start(); err != nil {
			fmt.Fprintln(os.Stderr, "testserver:", err)
			os.Exit(1)
		}
		fmt.Println("testserver: child", cmd.Process.Pid)
	}
	if *flood {
		line := []byte("testserver: flooding stderr with this line again and again\n")
		// 16 KiB before the first accept, so the flood exceeds any output
		// limit a test sets however soon its run ends.
		for range 16<<10/len(line) + 1 {
			if _, err := os.Stderr.Write(line); err != nil {
				break
			}
		}
		go func() {
			for {
				if _, err := os.Stderr.Write(line); err != nil {
					return
				}
			}
		}()
	}
	var held []net.Conn
	for n := 1; ; n++ {
		c, err := ln.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, "testserver:", err)
			os.Exit(1)
		}
		if *dieAfter > 0 && n >= *dieAfter {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
		if *silent {
			held = append(held, c)
			continue
		}
		go func() {
			defer c.Close()
			_, _ = io.Copy(c, c)
		}()
	}
}
