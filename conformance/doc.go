// Package conformance checks an echo server or client (RFC 862) against
// the spec catalogue, from Go.
//
// TestServer reports each check as a subtest of a *testing.T; CheckServer
// returns an error joining one *CheckError per failed check; Run returns
// the whole Report, which package conformance/report renders. The WithXxx
// options select and tune the checks in all three. StartProcess starts a
// server from its command line, for a server written in another language.
// TestClient and CheckClient do for an echo client (Client) what
// TestServer and CheckServer do for a server, with the client catalogue.
//
// Every call is bounded: each check has a watchdog, the run has a deadline,
// a panic in a check becomes an error result, and a server that Run or
// StartProcess started is stopped with its whole process group.
// docs/architecture.md shows how the packages fit together.
package conformance
