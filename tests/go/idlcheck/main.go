// Command idlcheck checks sockd's varlink interface definition with an
// independent parser, github.com/varlink/go/varlink/idl.
//
// Usage: idlcheck FILE.varlink
//
// It fails (exit 1, reasons on stderr) when the file does not parse, when
// the interface is not io.sockd, when a member of the contract is missing or
// has another signature, when the interface or a member has no doc comment,
// when a name breaks the varlink naming rules, when a type is used but not
// defined, or when the text has a layout this parser misreads. Members not in
// the contract are reported on stderr but are not an error. Exit 2 is a usage
// or I/O error. On success it prints one summary line.
//
// Build (GOPATH mode, Debian's golang-github-varlink-go-dev), from the top of
// the tree:
//
//	GOPATH=/usr/share/gocode GO111MODULE=off GOCACHE=/tmp/gocache \
//	    go build -o /tmp/idlcheck tests/go/idlcheck/main.go
package main

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/varlink/go/varlink/idl"
)

// The interface name the daemon serves.
const wantName = "io.sockd"

// The contract: every member io.sockd must define, with its exact signature.
// It is parsed with the same parser and compared member by member.
var contract = []string{
	"type Address (family: ?string, host: ?string, port: ?int, flowinfo: ?int, scope_id: ?int, path: ?string, path_base64: ?string, bdaddr: ?string, channel: ?int, psm: ?int)",
	"type PollItem (handle: int, events: []string)",
	"type AddrInfo (family: string, type: string, proto: int, canonname: string, address: Address)",
	"type SocketInfo (handle: int, name: ?string, family: string, type: string, proto: int, persistent: bool, local: ?Address, peer: ?Address, timeout: ?float, owner: int)",
	"method Socket(family: string, type: string, proto: ?int, persistent: ?bool, name: ?string) -> (handle: int)",
	"method Bind(handle: int, address: Address) -> ()",
	"method Listen(handle: int, backlog: ?int) -> ()",
	"method Accept(handle: int) -> (handle: int, address: Address)",
	"method Connect(handle: int, address: Address) -> ()",
	"method ConnectEx(handle: int, address: Address) -> (errno: int, name: string)",
	"method Send(handle: int, data: string, flags: ?[]string) -> (sent: int)",
	"method SendAll(handle: int, data: string, flags: ?[]string) -> ()",
	"method SendTo(handle: int, data: string, address: Address, flags: ?[]string) -> (sent: int)",
	"method Recv(handle: int, bufsize: int, flags: ?[]string) -> (data: string)",
	"method RecvFrom(handle: int, bufsize: int, flags: ?[]string) -> (data: string, address: ?Address)",
	"method SetTimeout(handle: int, timeout: ?float) -> ()",
	"method GetTimeout(handle: int) -> (timeout: ?float)",
	"method SetBlocking(handle: int, blocking: bool) -> ()",
	"method SetSockOpt(handle: int, level: string, option: string, value: ?int, data: ?string) -> ()",
	"method GetSockOpt(handle: int, level: string, option: string, buflen: ?int) -> (value: ?int, data: ?string)",
	"method Shutdown(handle: int, how: string) -> ()",
	"method Close(handle: int) -> ()",
	"method GetSockName(handle: int) -> (address: Address)",
	"method GetPeerName(handle: int) -> (address: Address)",
	"method FileNo(handle: int, detach: ?bool) -> (fd: int)",
	"method Poll(items: []PollItem, timeout: ?float) -> (items: []PollItem)",
	"method Attach(handle: int) -> ()",
	"method GetAddrInfo(host: ?string, port: ?int, family: ?string, type: ?string, proto: ?int, flags: ?[]string) -> (addresses: []AddrInfo)",
	"method GetNameInfo(address: Address, flags: ?[]string) -> (host: string, port: string)",
	"method GetHostByAddr(host: string) -> (hostname: string, aliases: []string, addresses: []string)",
	"method List() -> (sockets: []SocketInfo)",
	"method Find(name: string) -> (handle: int)",
	"error OSError (errno: int, name: string, message: string)",
	"error Timeout (message: string)",
	"error GAIError (code: int, name: string, message: string)",
	"error HError (code: int, message: string)",
	"error ProtocolError (message: string)",
}

var (
	memberNameRe = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)
	fieldNameRe  = regexp.MustCompile(`^[A-Za-z](_?[A-Za-z0-9])*$`)
	memberLineRe = regexp.MustCompile(`^(type|method|error)\s+([A-Za-z0-9]+)`)
)

// member is one type, method or error, reduced to what is compared.
type member struct {
	kind string // "type", "method", "error"
	name string
	doc  string
	sig  string // canonical signature text
	// types holds the member's top-level types, for the alias check.
	types []*idl.Type
}

// typeString writes t in canonical IDL form: no line breaks, ", " between
// fields, ": " after a field name.
func typeString(t *idl.Type) string {
	if t == nil {
		return "<nil>"
	}
	switch t.Kind {
	case idl.TypeBool:
		return "bool"
	case idl.TypeInt:
		return "int"
	case idl.TypeFloat:
		return "float"
	case idl.TypeString:
		return "string"
	case idl.TypeObject:
		return "object"
	case idl.TypeArray:
		return "[]" + typeString(t.ElementType)
	case idl.TypeMaybe:
		return "?" + typeString(t.ElementType)
	case idl.TypeMap:
		return "[string]" + typeString(t.ElementType)
	case idl.TypeAlias:
		return t.Alias
	case idl.TypeEnum:
		names := make([]string, len(t.Fields))
		for i, f := range t.Fields {
			names[i] = f.Name
		}
		return "(" + strings.Join(names, ", ") + ")"
	case idl.TypeStruct:
		fields := make([]string, len(t.Fields))
		for i, f := range t.Fields {
			fields[i] = f.Name + ": " + typeString(f.Type)
		}
		return "(" + strings.Join(fields, ", ") + ")"
	}
	return fmt.Sprintf("<kind %d>", t.Kind)
}

// members flattens a parsed interface into members keyed by name.
func members(d *idl.IDL) map[string]*member {
	m := make(map[string]*member)
	for _, a := range d.Aliases {
		m[a.Name] = &member{kind: "type", name: a.Name, doc: a.Doc,
			sig: typeString(a.Type), types: []*idl.Type{a.Type}}
	}
	for _, x := range d.Methods {
		m[x.Name] = &member{kind: "method", name: x.Name, doc: x.Doc,
			sig:   typeString(x.In) + " -> " + typeString(x.Out),
			types: []*idl.Type{x.In, x.Out}}
	}
	for _, e := range d.Errors {
		// An error may have no type at all: "error Foo ()" and "error
		// Foo" are the same.
		sig := "()"
		if e.Type != nil {
			sig = typeString(e.Type)
		}
		m[e.Name] = &member{kind: "error", name: e.Name, doc: e.Doc,
			sig: sig, types: []*idl.Type{e.Type}}
	}
	return m
}

// walk calls fn on t and every type inside it.
func walk(t *idl.Type, fn func(*idl.Type)) {
	if t == nil {
		return
	}
	fn(t)
	walk(t.ElementType, fn)
	for _, f := range t.Fields {
		walk(f.Type, fn)
	}
}

// lintText finds layouts that github.com/varlink/go's parser misreads, and
// members not separated by blank lines.
func lintText(text string) []string {
	var problems []string
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		n := i + 1
		switch {
		case l == "#":
			// The parser skips the character after '#', here the
			// newline, and so reads the next line as comment text: a
			// member right after it vanishes.
			problems = append(problems, fmt.Sprintf(
				"line %d: bare '#' line: this parser would swallow the next line; write '# ' or drop it", n))
		case strings.HasPrefix(l, "#") && !strings.HasPrefix(l, "# "):
			problems = append(problems, fmt.Sprintf(
				"line %d: '#' not followed by a space: this parser drops the character after '#'", n))
		case strings.HasPrefix(strings.TrimLeft(l, " \t"), "#") && !strings.HasPrefix(l, "#"):
			problems = append(problems, fmt.Sprintf(
				"line %d: indented comment", n))
		}
		// "# " is the one empty doc line this parser reads right.
		if l != "# " && (strings.HasSuffix(l, " ") || strings.HasSuffix(l, "\t") || strings.HasSuffix(l, "\r")) {
			problems = append(problems, fmt.Sprintf("line %d: trailing whitespace", n))
		}
		if mm := memberLineRe.FindStringSubmatch(l); mm != nil {
			// Walk back over the member's doc comment; the line
			// before it must be blank.
			j := i - 1
			for j >= 0 && strings.HasPrefix(lines[j], "#") {
				j--
			}
			if j >= 0 && strings.TrimSpace(lines[j]) != "" {
				problems = append(problems, fmt.Sprintf(
					"line %d: %s %s is not separated from the previous member by a blank line",
					n, mm[1], mm[2]))
			}
		}
	}
	if !strings.HasSuffix(text, "\n") {
		problems = append(problems, "the file does not end with a newline")
	}
	return problems
}

func check(text string) (summary string, problems []string, notes []string) {
	bad := func(format string, args ...interface{}) {
		problems = append(problems, fmt.Sprintf(format, args...))
	}

	problems = append(problems, lintText(text)...)

	d, err := idl.New(text)
	if err != nil {
		bad("parse error: %v", err)
		return "", problems, notes
	}
	if d.Name != wantName {
		bad("interface name is %q, want %q", d.Name, wantName)
	}
	if strings.TrimSpace(d.Doc) == "" {
		bad("interface %s has no doc comment", d.Name)
	}

	got := members(d)

	for _, mb := range got {
		if !memberNameRe.MatchString(mb.name) {
			bad("%s %s: name is not CamelCase", mb.kind, mb.name)
		}
		if strings.TrimSpace(mb.doc) == "" {
			bad("%s %s has no doc comment", mb.kind, mb.name)
		}
		for _, t := range mb.types {
			walk(t, func(t *idl.Type) {
				if t.Kind == idl.TypeStruct || t.Kind == idl.TypeEnum {
					for _, f := range t.Fields {
						if !fieldNameRe.MatchString(f.Name) {
							bad("%s %s: bad field name %q", mb.kind, mb.name, f.Name)
						}
					}
				}
				if t.Kind == idl.TypeAlias {
					if a, ok := got[t.Alias]; !ok || a.kind != "type" {
						bad("%s %s: uses undefined type %s", mb.kind, mb.name, t.Alias)
					}
				}
			})
		}
	}

	want, err := idl.New("interface " + wantName + "\n\n" + strings.Join(contract, "\n\n") + "\n")
	if err != nil {
		// The contract above is broken: a bug in this program.
		fmt.Fprintf(os.Stderr, "idlcheck: internal error: contract does not parse: %v\n", err)
		os.Exit(2)
	}
	wantMembers := members(want)
	var names []string
	for name := range wantMembers {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		w := wantMembers[name]
		g, ok := got[name]
		switch {
		case !ok:
			bad("missing %s %s", w.kind, name)
		case g.kind != w.kind:
			bad("%s is declared as %s, want %s", name, g.kind, w.kind)
		case g.sig != w.sig:
			bad("%s %s: signature\n\t%s\nwant\n\t%s", w.kind, name, g.sig, w.sig)
		}
	}
	for name, g := range got {
		if _, ok := wantMembers[name]; !ok {
			notes = append(notes, fmt.Sprintf("%s %s is not in the contract", g.kind, name))
		}
	}
	sort.Strings(notes)

	summary = fmt.Sprintf("interface %s: %d types, %d methods, %d errors; all documented, contract signatures match",
		d.Name, len(d.Aliases), len(d.Methods), len(d.Errors))
	return summary, problems, notes
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: idlcheck FILE.varlink")
		os.Exit(2)
	}
	path := os.Args[1]
	b, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "idlcheck: %v\n", err)
		os.Exit(2)
	}
	summary, problems, notes := check(string(b))
	for _, n := range notes {
		fmt.Fprintf(os.Stderr, "idlcheck: %s: note: %s\n", path, n)
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintf(os.Stderr, "idlcheck: %s: %s\n", path, p)
		}
		fmt.Fprintf(os.Stderr, "idlcheck: %s: FAILED (%d problems)\n", path, len(problems))
		os.Exit(1)
	}
	fmt.Printf("idlcheck: %s: OK: %s\n", path, summary)
}
