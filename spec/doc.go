// Package spec is the TCP Echo protocol (RFC 862) written down as a catalogue
// of executable checks.
//
// Each Check verifies one requirement from the client side, over fresh
// connections that it dials through an Env. Checks know nothing about
// reports or flags; an engine runs them. Exchange gives one exchange on a
// caller's connection the checks' diagnosis.
//
// Check IDs ("category/name") are a public contract: rubrics, CI filters and
// graders key on them. An ID is never renamed or reused; a check that is
// withdrawn keeps its ID retired.
package spec
