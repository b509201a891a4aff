package spec

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// clientEntry is a client check: the scenario echoconf's server plays and
// the judge of the run.
type clientEntry struct {
	Check
	scenario scenario
	judge    func(env *Env, ex exchange, r *clientRun) *Failure
}

// clientChecks is the client category, in catalogue order.
var clientChecks = []clientEntry{
	clientSendsExactCheck,
	clientPrintsEchoCheck,
	clientExitStatusCheck,
	clientClosesConnectionCheck,
	clientShortReadsCheck,
	clientDelayedEchoCheck,
	clientResplitEchoCheck,
	clientCloseAtOnceCheck,
	clientCloseHalfCheck,
	clientResetCheck,
	clientGivesUpCheck,
	clientNoSpinCheck,
	clientLargeStreamCheck,
}

// Clients returns the client catalogue in catalogue order: checks of an
// echo client, run by playing its server. Each call returns a fresh slice.
//
// Every check runs the client once (through Env.Client) against a fresh
// server of its own on 127.0.0.1, so the checks are independent of each
// other and may run together. A check that does not apply to the client's
// shape is skipped with a reason.
func Clients() []Check {
	var all []Check
	for _, e := range clientChecks {
		c := e.Check
		c.Run = bindClient(e)
		all = append(all, c)
	}
	return all
}

// bindClient returns the Run of e: choose the input, run the client
// against e's scenario, judge the run.
func bindClient(e clientEntry) func(context.Context, *Env) error {
	return func(ctx context.Context, env *Env) (err error) {
		if env == nil || env.Client == nil {
			return errors.New("check " + e.ID + ": no Env.Client: a client check needs a client to run")
		}
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("check %s: internal error: %v", e.ID, r)
			}
		}()
		shape := env.Client.Shape()
		if !e.AppliesTo(shape) {
			return &Skipped{Reason: fmt.Sprintf("applies to %s clients only; this client's shape is %s", e.Shapes[0], shape)}
		}
		ex := newExchange(env, e.ID, shape, e.scenario.large)
		run, err := runScenario(ctx, env, e.scenario, ex)
		if err != nil {
			return fmt.Errorf("check %s: %w", e.ID, err)
		}
		if !run.connected {
			// Every scenario needs the client's connection: without one,
			// a client that exits with an error would pass the checks of
			// early closes, resets and silence.
			return asError(notConnected(run))
		}
		return asError(e.judge(env, ex, run))
	}
}

// clientTimeout is the watchdog of a client check: the time its client may
// take to connect and then to run, with room to collect its connection.
func clientTimeout(sc scenario) time.Duration { return clientStartup + sc.limit + 10*time.Second }

// withoutEnv adapts a judge that needs no Env.
func withoutEnv(j func(exchange, *clientRun) *Failure) func(*Env, exchange, *clientRun) *Failure {
	return func(_ *Env, ex exchange, r *clientRun) *Failure { return j(ex, r) }
}

var clientSendsExactCheck = clientEntry{
	Check: Check{
		ID:          "client/sends-exact",
		Requirement: "The client sends exactly the message it was given: every byte, and nothing more (no NUL terminator, no unused buffer).",
		Level:       Must,
		Needs:       NeedsClient,
		Timeout:     clientTimeout(scenarioEcho),
	},
	scenario: scenarioEcho,
	judge:    withoutEnv(judgeSendsExact),
}

var clientPrintsEchoCheck = clientEntry{
	Check: Check{
		ID:          "client/prints-echo",
		Requirement: "The client prints the echo it receives, exactly and in order; text around it is allowed.",
		Level:       Must,
		Needs:       NeedsClient,
		Timeout:     clientTimeout(scenarioEcho),
	},
	scenario: scenarioEcho,
	judge:    withoutEnv(judgePrints),
}

var clientExitStatusCheck = clientEntry{
	Check: Check{
		ID:          "client/exit-status",
		Requirement: "The client exits with status 0 after a complete exchange.",
		Level:       Must,
		Needs:       NeedsClient,
		Timeout:     clientTimeout(scenarioEcho),
	},
	scenario: scenarioEcho,
	judge:    withoutEnv(judgeExitZero),
}

var clientClosesConnectionCheck = clientEntry{
	Check: Check{
		ID:          "client/closes-connection",
		Requirement: "The client closes its connection within 3 s of receiving the whole echo.",
		Level:       Must,
		Needs:       NeedsClient,
		Timeout:     clientTimeout(scenarioEcho),
	},
	scenario: scenarioEcho,
	judge:    judgeCloses,
}

var clientShortReadsCheck = clientEntry{
	Check: Check{
		ID:          "client/short-reads",
		Requirement: "The client keeps reading until it has the whole echo, even when the echo arrives one byte at a time.",
		Level:       Must,
		Needs:       NeedsClient,
		Timeout:     clientTimeout(scenarioTrickle),
	},
	scenario: scenarioTrickle,
	judge:    withoutEnv(judgePrints),
}

var clientDelayedEchoCheck = clientEntry{
	Check: Check{
		ID:          "client/delayed-echo",
		Requirement: "The client waits for an echo that comes 1.5 s late, and prints it whole.",
		Level:       Must,
		Needs:       NeedsClient,
		Timeout:     clientTimeout(scenarioDelay),
	},
	scenario: scenarioDelay,
	judge:    withoutEnv(judgePrints),
}

var clientResplitEchoCheck = clientEntry{
	Check: Check{
		ID:          "client/resplit-echo",
		Requirement: "The client prints the echo whole, however the server splits it into pieces.",
		Level:       Must,
		Needs:       NeedsClient,
		Timeout:     clientTimeout(scenarioResplit),
	},
	scenario: scenarioResplit,
	judge:    withoutEnv(judgePrints),
}

var clientCloseAtOnceCheck = clientEntry{
	Check: Check{
		ID:          "client/close-at-once",
		Requirement: "When the server closes the connection before echoing anything, the client exits with a non-zero status and a message on stderr.",
		Level:       Must,
		Needs:       NeedsClient,
		Timeout:     clientTimeout(scenarioCloseAtOnce),
	},
	scenario: scenarioCloseAtOnce,
	judge:    errorExit("when the server closed before echoing anything"),
}

var clientCloseHalfCheck = clientEntry{
	Check: Check{
		ID:          "client/close-half",
		Requirement: "When the server closes the connection after echoing half the message, the client exits with a non-zero status and a message on stderr.",
		Level:       Must,
		Needs:       NeedsClient,
		Timeout:     clientTimeout(scenarioCloseHalf),
	},
	scenario: scenarioCloseHalf,
	judge:    errorExit("when the server closed after echoing half the message"),
}

var clientResetCheck = clientEntry{
	Check: Check{
		ID:          "client/reset",
		Requirement: "When the server resets the connection, the client exits with a non-zero status and a message on stderr.",
		Level:       Must,
		Needs:       NeedsClient,
		Timeout:     clientTimeout(scenarioReset),
	},
	scenario: scenarioReset,
	judge:    errorExit("when the server reset the connection"),
}

var clientGivesUpCheck = clientEntry{
	Check: Check{
		ID:          "client/gives-up",
		Requirement: "When the server never answers, the client gives up within 10 s, with a non-zero status and a message on stderr.",
		Level:       Should,
		Needs:       NeedsClient,
		Timeout:     clientTimeout(scenarioSilent),
		Measures:    KindExitStatus,
	},
	scenario: scenarioSilent,
	judge:    errorExit("within 10 s of a server that never answers"),
}

var clientNoSpinCheck = clientEntry{
	Check: Check{
		ID:          "client/no-spin",
		Requirement: "After the server closed the connection, the client does not spin on the CPU (runnable at most half of the time).",
		Level:       Should,
		Needs:       NeedsClient,
		Timeout:     clientTimeout(scenarioSpin),
		Measures:    KindHygiene,
	},
	scenario: scenarioSpin,
	judge:    withoutEnv(judgeNoSpin),
}

var clientLargeStreamCheck = clientEntry{
	Check: Check{
		ID:          "client/large-stream",
		Requirement: "A stream client reads the echo while it writes, so that 8 MiB of input pass through it without deadlock.",
		Level:       Must,
		Needs:       NeedsClient,
		Timeout:     clientTimeout(scenarioLarge) + 20*time.Second,
		Shapes:      []Shape{ShapeStream},
	},
	scenario: scenarioLarge,
	judge:    judgeLargeStream,
}

// errorExit adapts judgeErrorExit.
func errorExit(what string) func(*Env, exchange, *clientRun) *Failure {
	return withoutEnv(judgeErrorExit(what))
}
