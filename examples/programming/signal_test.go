package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSecondInterruptEndsProgram (issue 12, row 17): the first Ctrl-C
// cancels the run's context; a second one ends the program at once, even
// when the run is stuck in a call that ignores its context (a hub that
// accepts and never answers). The test runs itself as a child process that
// sets up signals as main does and then blocks, and sends it two SIGINTs.
func TestSecondInterruptEndsProgram(t *testing.T) {
	if os.Getenv("GENQ_SIGNAL_CHILD") == "1" {
		ctx, stop := interruptible(context.Background())
		defer stop()
		fmt.Println("ready")
		<-ctx.Done()
		fmt.Println("canceled")
		time.Sleep(time.Minute) // stuck, ignoring ctx
		fmt.Println("not killed")
		os.Exit(0)
	}
	if testing.Short() {
		t.Skip("runs a child process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSecondInterruptEndsProgram$", "-test.count=1")
	cmd.Env = append(os.Environ(), "GENQ_SIGNAL_CHILD=1")
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill() })
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	expect := func(want string) {
		t.Helper()
		select {
		case got := <-lines:
			require.Equal(t, want, got)
		case <-time.After(10 * time.Second):
			require.FailNowf(t, "timeout", "the child did not print %q within 10 s", want)
		}
	}
	expect("ready")
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	expect("canceled")
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	done := make(chan error, 1)
	go func() {
		for range lines { // drain, so that Wait can return
		}
		done <- cmd.Wait()
	}()
	select {
	case err := <-done:
		var exit *exec.ExitError
		require.True(t, errors.As(err, &exit), "want the child killed by the second SIGINT, got %v", err)
		ws, ok := exit.Sys().(syscall.WaitStatus)
		require.True(t, ok)
		assert.True(t, ws.Signaled() && ws.Signal() == syscall.SIGINT, "want death by SIGINT, got %v", ws)
	case <-time.After(10 * time.Second):
		require.FailNow(t, "the second Ctrl-C did not end the program within 10 s")
	}
}
