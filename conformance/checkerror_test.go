package conformance_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/conformance"
	"github.com/echoconf/echoconf/spec"
)

var _ = Describe("CheckError", func() {
	It("counts a client check's bytes from the client's side, and says the client was not judged", func() {
		sends, _ := spec.Lookup("client/sends-exact")
		e := &conformance.CheckError{Result: conformance.Result{Check: sends, Status: conformance.StatusFail,
			Err: &spec.Failure{Kind: spec.KindWrongBytes, Offset: 20, Sent: 21, Received: 21, Ending: spec.EventEOF}}}
		Expect(e.Error()).To(ContainSubstring("the client sent 21 bytes; echoconf's server sent it 21"))

		givesUp, _ := spec.Lookup("client/gives-up")
		e = &conformance.CheckError{Result: conformance.Result{Check: givesUp, Status: conformance.StatusUnjudged,
			Err: &spec.Failure{Kind: spec.KindRefused, Offset: -1}}}
		Expect(e.Error()).To(ContainSubstring("could not be judged (the client did not carry out the check's exchange)"))
	})

	It("counts a server check's bytes from echoconf's side", func() {
		small, _ := spec.Lookup("basic/small-message")
		e := &conformance.CheckError{Result: conformance.Result{Check: small, Status: conformance.StatusFail,
			Err: &spec.Failure{Kind: spec.KindEarlyEOF, Offset: -1, Sent: 10, Received: 4, Ending: spec.EventEOF}}}
		Expect(e.Error()).To(ContainSubstring("sent 10 bytes, received 4 bytes"))
	})
})
