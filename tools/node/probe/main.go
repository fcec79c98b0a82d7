// probe: the program of the NetworkPolicy test's pods (scripts/test.d/82-netpol.sh). A pod runs
// `probe listen PORT...` (accepts TCP connections on each port and closes them); the test runs
// `probe dial HOST:PORT` in a pod with `kubectl exec`: exit 0 when the connection opens within the
// timeout, 1 otherwise (refused, reset or timed out: the reason on stderr). `probe resolve NAME`
// looks a name up through the pod's resolver. Standard library only.
package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"time"
)

const timeout = 3 * time.Second

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: probe listen PORT... | dial HOST:PORT | resolve NAME")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "listen":
		for _, port := range os.Args[2:] {
			l, err := net.Listen("tcp", ":"+port)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			go accept(l)
		}
		select {}
	case "dial":
		c, err := net.DialTimeout("tcp", os.Args[2], timeout)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		c.Close()
		fmt.Println("connected", os.Args[2])
	case "resolve":
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		addrs, err := net.DefaultResolver.LookupHost(ctx, os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(addrs)
	default:
		os.Exit(2)
	}
}

func accept(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		c.Close()
	}
}
