// Command iocopy-server is the idiomatic Go echo server, a peer for
// `make bench-compare`: a goroutine per connection running io.Copy(c, c),
// which splices through a pipe on Linux, then a half-close.
//
// Usage: iocopy-server PORT (listens on 127.0.0.1)
package main

import (
	"fmt"
	"io"
	"net"
	"os"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: iocopy-server PORT")
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", os.Args[1]))
	if err != nil {
		fmt.Fprintf(os.Stderr, "iocopy-server: %v\n", err)
		os.Exit(1)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			continue // EMFILE and the like: try again
		}
		go func() {
			defer c.Close()
			if _, err := io.Copy(c, c); err == nil {
				_ = c.(*net.TCPConn).CloseWrite()
			}
		}()
	}
}
