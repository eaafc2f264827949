// Command vlclient drives a running sockd with an independent varlink
// client, github.com/varlink/go/varlink, and checks a few basics of the
// protocol and of the io.sockd interface.
//
// Usage: vlclient SOCKETPATH
//
// Steps, one line each on stdout ("ok" or "FAIL"):
//
//	connect                  to unix:SOCKETPATH
//	GetInfo                  lists org.varlink.service and io.sockd
//	GetInterfaceDescription  io.sockd, parsed with varlink/go's idl parser
//	Socket                   AF_INET SOCK_STREAM, prints the handle
//	Bind                     127.0.0.1 port 0
//	GetSockName              AF_INET 127.0.0.1 with a port > 0
//	Close                    succeeds
//	Close again              fails with io.sockd.OSError EBADF
//
// Exit status: 0 when every step behaved, 1 when one did not (it stops
// there), 2 usage.
//
// Build (GOPATH mode, Debian's golang-github-varlink-go-dev), from the top of
// the tree:
//
//	GOPATH=/usr/share/gocode GO111MODULE=off GOCACHE=/tmp/gocache \
//	    go build -o /tmp/vlclient tests/go/vlclient/main.go
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/varlink/go/varlink"
	"github.com/varlink/go/varlink/idl"
)

// How long one call may take.
const callTimeout = 10 * time.Second

// Address is io.sockd.Address; nil fields are left out of calls.
type Address struct {
	Family   *string `json:"family,omitempty"`
	Host     *string `json:"host,omitempty"`
	Port     *int64  `json:"port,omitempty"`
	FlowInfo *int64  `json:"flowinfo,omitempty"`
	ScopeID  *int64  `json:"scope_id,omitempty"`
	Path     *string `json:"path,omitempty"`
	BDAddr   *string `json:"bdaddr,omitempty"`
	Channel  *int64  `json:"channel,omitempty"`
	PSM      *int64  `json:"psm,omitempty"`
}

func (a *Address) String() string {
	b, _ := json.Marshal(a)
	return string(b)
}

// OSError is the parameters of io.sockd.OSError.
type OSError struct {
	Errno   *int64  `json:"errno"`
	Name    *string `json:"name"`
	Message *string `json:"message"`
}

func strp(s string) *string { return &s }
func intp(i int64) *int64   { return &i }

// client is one varlink connection, and what the run has made so far.
type client struct {
	conn   *varlink.Connection
	handle int64 // 0: none open
}

// call calls method and decodes the reply into out, strictly: the library
// itself ignores reply decoding errors.
func (c *client) call(method string, params interface{}, out interface{}) error {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	var raw json.RawMessage
	if err := c.conn.Call(ctx, method, params, &raw); err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if len(raw) == 0 {
		raw = json.RawMessage("{}")
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s: cannot decode reply parameters %s: %v", method, raw, err)
	}
	return nil
}

// describeError renders a varlink error with its parameters.
func describeError(err error) string {
	var ve *varlink.Error
	if errors.As(err, &ve) {
		params := "null"
		if rm, ok := ve.Parameters.(*json.RawMessage); ok && rm != nil {
			params = string(*rm)
		}
		return ve.Name + " " + params
	}
	switch e := err.(type) {
	case *varlink.InterfaceNotFound, *varlink.MethodNotFound,
		*varlink.MethodNotImplemented, *varlink.InvalidParameter:
		b, _ := json.Marshal(e)
		return e.Error() + " " + string(b)
	}
	return err.Error()
}

func ok(step, format string, args ...interface{}) {
	fmt.Printf("%-24s ok: %s\n", step, fmt.Sprintf(format, args...))
}

// fail reports step as failed, closes what the run opened, and exits 1.
func (c *client) fail(step, format string, args ...interface{}) {
	fmt.Printf("%-24s FAIL: %s\n", step, fmt.Sprintf(format, args...))
	if c.conn != nil && c.handle != 0 {
		// Best effort; the handle is closed with the connection anyway.
		_ = c.call("io.sockd.Close", map[string]interface{}{"handle": c.handle}, nil)
	}
	if c.conn != nil {
		c.conn.Close()
	}
	os.Exit(1)
}

func main() {
	if len(os.Args) != 2 || strings.HasPrefix(os.Args[1], "-") {
		fmt.Fprintln(os.Stderr, "usage: vlclient SOCKETPATH")
		os.Exit(2)
	}
	address := "unix:" + os.Args[1]
	c := &client{}

	// connect
	{
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		conn, err := varlink.NewConnection(ctx, address)
		cancel()
		if err != nil {
			c.fail("connect", "%s: %v", address, err)
		}
		c.conn = conn
		ok("connect", "%s", address)
	}

	// org.varlink.service.GetInfo
	{
		var r struct {
			Vendor     *string   `json:"vendor"`
			Product    *string   `json:"product"`
			Version    *string   `json:"version"`
			URL        *string   `json:"url"`
			Interfaces *[]string `json:"interfaces"`
		}
		if err := c.call("org.varlink.service.GetInfo", nil, &r); err != nil {
			c.fail("GetInfo", "%s", describeError(err))
		}
		if r.Vendor == nil || r.Product == nil || r.Version == nil || r.URL == nil || r.Interfaces == nil {
			c.fail("GetInfo", "reply lacks vendor, product, version, url or interfaces")
		}
		has := map[string]bool{}
		for _, i := range *r.Interfaces {
			has[i] = true
		}
		if !has["org.varlink.service"] || !has["io.sockd"] {
			c.fail("GetInfo", "interfaces %v lack org.varlink.service or io.sockd", *r.Interfaces)
		}
		ok("GetInfo", "vendor=%q product=%q version=%q interfaces=%s",
			*r.Vendor, *r.Product, *r.Version, strings.Join(*r.Interfaces, ","))
	}

	// org.varlink.service.GetInterfaceDescription
	{
		var r struct {
			Description *string `json:"description"`
		}
		if err := c.call("org.varlink.service.GetInterfaceDescription",
			map[string]string{"interface": "io.sockd"}, &r); err != nil {
			c.fail("GetInterfaceDescription", "%s", describeError(err))
		}
		if r.Description == nil {
			c.fail("GetInterfaceDescription", "reply lacks description")
		}
		d, err := idl.New(*r.Description)
		if err != nil {
			c.fail("GetInterfaceDescription", "description does not parse: %v", err)
		}
		if d.Name != "io.sockd" {
			c.fail("GetInterfaceDescription", "description is of interface %q", d.Name)
		}
		ok("GetInterfaceDescription", "io.sockd parses: %d types, %d methods, %d errors",
			len(d.Aliases), len(d.Methods), len(d.Errors))
	}

	// io.sockd.Socket
	{
		var r struct {
			Handle *int64 `json:"handle"`
		}
		if err := c.call("io.sockd.Socket", map[string]interface{}{
			"family": "AF_INET", "type": "SOCK_STREAM",
		}, &r); err != nil {
			c.fail("Socket", "%s", describeError(err))
		}
		if r.Handle == nil || *r.Handle <= 0 {
			c.fail("Socket", "no positive handle in the reply")
		}
		c.handle = *r.Handle
		ok("Socket", "AF_INET SOCK_STREAM handle=%d", c.handle)
	}

	// io.sockd.Bind
	{
		addr := &Address{Host: strp("127.0.0.1"), Port: intp(0)}
		if err := c.call("io.sockd.Bind", map[string]interface{}{
			"handle": c.handle, "address": addr,
		}, nil); err != nil {
			c.fail("Bind", "%s", describeError(err))
		}
		ok("Bind", "handle=%d address=%s", c.handle, addr)
	}

	// io.sockd.GetSockName
	{
		var r struct {
			Address *Address `json:"address"`
		}
		if err := c.call("io.sockd.GetSockName", map[string]interface{}{
			"handle": c.handle,
		}, &r); err != nil {
			c.fail("GetSockName", "%s", describeError(err))
		}
		a := r.Address
		switch {
		case a == nil:
			c.fail("GetSockName", "reply lacks address")
		case a.Family == nil || *a.Family != "AF_INET":
			c.fail("GetSockName", "address %s: family is not AF_INET", a)
		case a.Host == nil || *a.Host != "127.0.0.1":
			c.fail("GetSockName", "address %s: host is not 127.0.0.1", a)
		case a.Port == nil || *a.Port <= 0 || *a.Port > 65535:
			c.fail("GetSockName", "address %s: no port in 1..65535", a)
		}
		ok("GetSockName", "address=%s", a)
	}

	// io.sockd.Close
	closed := c.handle
	{
		if err := c.call("io.sockd.Close", map[string]interface{}{
			"handle": c.handle,
		}, nil); err != nil {
			c.fail("Close", "%s", describeError(err))
		}
		c.handle = 0
		ok("Close", "handle=%d", closed)
	}

	// io.sockd.Close again: OSError EBADF
	{
		err := c.call("io.sockd.Close", map[string]interface{}{
			"handle": closed,
		}, nil)
		var ve *varlink.Error
		switch {
		case err == nil:
			c.fail("Close again", "handle=%d: succeeded, want io.sockd.OSError", closed)
		case !errors.As(err, &ve) || ve.Name != "io.sockd.OSError":
			c.fail("Close again", "handle=%d: %s, want io.sockd.OSError", closed, describeError(err))
		}
		var e OSError
		rm, _ := ve.Parameters.(*json.RawMessage)
		if rm == nil || json.Unmarshal(*rm, &e) != nil ||
			e.Errno == nil || e.Name == nil || e.Message == nil {
			c.fail("Close again", "%s: parameters lack errno, name or message", describeError(err))
		}
		if *e.Errno != int64(syscall.EBADF) || *e.Name != "EBADF" {
			c.fail("Close again", "%s: want errno %d EBADF", describeError(err), int64(syscall.EBADF))
		}
		ok("Close again", "handle=%d: %s", closed, describeError(err))
	}

	c.conn.Close()
}
