package echoserver_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/conformance"
	"github.com/echoconf/echoconf/conformance/echoginkgo"
	"github.com/echoconf/echoconf/examples/echoserver"
)

func TestEchoserverSuite(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "echoserver Suite")
}

var srv *echoserver.Server

var _ = BeforeSuite(func() {
	var err error
	srv, err = echoserver.Listen("127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(srv.Close)
})

// The whole catalogue, one It per check, labelled by category and level:
//
//	go test -ginkgo.label-filter='halfclose && must'
var _ = echoginkgo.DescribeServer("echoserver", func() string { return srv.Addr() },
	conformance.WithTimeoutScale(2))

var _ = Describe("echoserver, by hand", func() {
	It("echoes a greeting and binary data", func() {
		Expect(srv.Addr()).To(echoginkgo.EchoBack([]byte("hello, world\n")))
		Expect(srv.Addr()).To(echoginkgo.EchoBack([]byte{0, 1, 2, 0xff, '\r', '\n'}))
	})

	It("echoes a large payload without deadlock", func() {
		big := make([]byte, 4<<20)
		for i := range big {
			big[i] = byte(i % 251)
		}
		Expect(srv.Addr()).To(echoginkgo.EchoBack(big))
	})

	It("sends everything back, then its FIN, after a half-close", func() {
		Expect(srv.Addr()).To(echoginkgo.PassCheck("halfclose/small-pending"))
	})
})
