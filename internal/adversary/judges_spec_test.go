package adversary_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("client/prints-echo's judge", func() {
	arg := exchange{shape: shapeArgument, message: "echo0123456789abcdef", pieces: [][]byte{[]byte("echo0123456789abcdef")}}
	lines := [][]byte{[]byte("0123456789abcdef0123456789\n"), []byte("fedcba9876\n"), []byte("abcdef\n")}
	inter := exchange{shape: shapeInteractive, pieces: lines}
	stream := exchange{shape: shapeStream, pieces: [][]byte{[]byte("0123456789\nabcdef\n")}}

	DescribeTable("judges stdout",
		func(ex exchange, stdout string, want string) {
			got := judgePrints(ex, outcome{stdout: []byte(stdout)})
			if want == "" {
				Expect(got).To(BeEmpty())
			} else {
				Expect(got).To(ContainSubstring(want))
			}
		},
		Entry("the bare echo", arg, "echo0123456789abcdef", ""),
		Entry("decorated, on its own line", arg, "Connected.\nReceived: echo0123456789abcdef\r\nBye\n", ""),
		Entry("a missing byte", arg, "Received: echo0123456789abcde\n", "is not on stdout"),
		Entry("garbage after the echo", arg, "Received: echo0123456789abcdef\x7f\x01\n", "bytes after the echo on its line"),
		Entry("non-text decoration", arg, "\x00Received: echo0123456789abcdef\n", "non-text bytes"),
		Entry("the echo printed twice", arg, "echo0123456789abcdef\nagain: echo0123456789abcdef\n", "bytes of the messages outside their echo"),
		Entry("every line, with prompts", inter, "> 0123456789abcdef0123456789\n> fedcba9876\n> abcdef\n", ""),
		Entry("lines out of order", inter, "0123456789abcdef0123456789\nabcdef\nfedcba9876\n", "message 3"),
		Entry("the stale tail of a longer line", inter, "0123456789abcdef0123456789\nfedcba9876\n0123456789\nabcdef\n", "bytes of the messages outside their echo"),
		Entry("a stream, exactly", stream, "0123456789\nabcdef\n", ""),
		Entry("a stream, decorated", stream, "echo: 0123456789\nabcdef\n", "differs from the echo from byte 0"),
		Entry("a stream, cut short", stream, "0123456789\n", "differs from the echo from byte 11"),
	)
})
