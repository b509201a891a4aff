#!/usr/bin/env perl
# line-client.pl - an interactive echo client, in Perl: one line, one echo.
#
# Usage: line-client.pl HOST PORT
#
# For each line of stdin it sends the line and prints the echoed line,
# read with Perl's buffered readline, which loops on short reads until the
# newline. At the end of stdin it half-closes and waits for the server's
# close, then exits 0. A server that closes or resets early, or is silent
# for 5 s (alarm), ends it with a message on stderr and a non-zero status.
use strict;
use warnings;
use IO::Socket::INET;
use Socket qw(SHUT_WR);

@ARGV == 2 or die "usage: line-client.pl HOST PORT\n";
my ($host, $port) = @ARGV;
$SIG{PIPE} = 'IGNORE';
$SIG{ALRM} = sub { die "client: no answer from the server within 5 s\n" };
my $s = IO::Socket::INET->new(PeerHost => $host, PeerPort => $port, Proto => 'tcp', Timeout => 5)
    or die "client: connect to $host:$port: $@\n";
$s->autoflush(1);
while (my $line = <STDIN>) {
    print {$s} $line or die "client: send: $!\n";
    alarm 5;
    my $echo = <$s>;
    alarm 0;
    defined $echo or die "client: the server closed the connection" . ($! ? " ($!)" : "") . "\n";
    $echo =~ /\n\z/ or die "client: the server closed the connection in the middle of a line\n";
    print $echo;
}
shutdown($s, SHUT_WR) or die "client: shutdown: $!\n";
alarm 5;
my $rest = <$s>;
alarm 0;
defined $rest and die "client: the server sent bytes that were never sent to it\n";
close $s;
exit 0;
