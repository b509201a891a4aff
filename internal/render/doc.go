// Package render holds what echoconf's reports are made of and its own
// commands use besides the formats of conformance/report: the text
// report's lines (echoconf check streams them as checks end), the words that
// describe a result (message, replay command, timeline, hint), the scoring
// rule, and the documents of the json and gradescope formats, which grade
// embeds in grade.json and reads back.
//
// Nothing here is a public API; conformance/report is.
package render
