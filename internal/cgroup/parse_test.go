package cgroup_test

import (
	"os"
	"path/filepath"
	"strconv"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/echoconf/echoconf/internal/cgroup"
)

// writeTemp writes content to a file of the spec's temporary directory.
func writeTemp(name, content string) string {
	GinkgoHelper()
	p := filepath.Join(GinkgoT().TempDir(), name)
	Expect(os.WriteFile(p, []byte(content), 0o644)).To(Succeed())
	return p
}

var _ = Describe("reading the kernel's cgroup tables", func() {
	It("finds v1 and v2 cgroup mounts in mountinfo and nothing else", func() {
		p := writeTemp("mountinfo", `22 1 0:21 / / rw - ext4 /dev/vda rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct
39 31 0:36 /docker/abc /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/with\040space rw,relatime - cgroup2 cgroup2 rw,nsdelegate
`)
		ms, err := cgroup.ReadMounts(p)
		Expect(err).NotTo(HaveOccurred())
		want := []cgroup.MountView{
			{Root: "/", Point: "/sys/fs/cgroup/cpu,cpuacct", Controllers: []string{"rw", "cpu", "cpuacct"}},
			{Root: "/docker/abc", Point: "/sys/fs/cgroup/pids", Controllers: []string{"rw", "pids"}},
			{Root: "/", Point: "/sys/fs/cgroup/with space", V2: true},
		}
		Expect(cmp.Diff(want, cgroup.ViewMounts(ms))).To(BeEmpty())
	})

	It("maps each v1 controller to this process's path and skips the v2 line", func() {
		p := writeTemp("cgroup", "9:name=systemd:/\n8:pids:/a\n2:cpu,cpuacct:/b/c\n0::/\n")
		own, err := cgroup.ReadOwnCgroups(p)
		Expect(err).NotTo(HaveOccurred())
		want := map[string]string{"name=systemd": "/", "pids": "/a", "cpu": "/b/c", "cpuacct": "/b/c"}
		Expect(cmp.Diff(want, own)).To(BeEmpty())
	})

	DescribeTable("names a group after a submission, safely",
		func(name, want string) { Expect(cgroup.Clean(name)).To(Equal(want)) },
		Entry("plain", "alice-2", "alice-2"),
		Entry("path separators and spaces", "../x y", ".._x_y"),
		Entry("empty", "", "group"),
		Entry("long", "abcdefghijabcdefghijabcdefghijabcdefghijXYZ", "abcdefghijabcdefghijabcdefghijabcdefghij"),
	)
})

func itoa(n int) string { return strconv.Itoa(n) }
