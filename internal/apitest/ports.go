package apitest

import (
	"net"
	"testing"
)

// FreePort returns a port of 127.0.0.1 that nothing listened on a moment ago: for a second
// server a test starts itself (a browser page on another origin, say).
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
