package worker

import "fmt"

// State is a connector's or a task's lifecycle state, as shown by the REST
// status routes and the binlake_task_state metric.
type State string

// The states (Kafka Connect's names).
const (
	// Unassigned: created, not yet running (computing task configs,
	// starting a task).
	Unassigned State = "UNASSIGNED"
	// Running: doing its work.
	Running State = "RUNNING"
	// Paused: alive but idle; resumes without a restart.
	Paused State = "PAUSED"
	// Stopped: no tasks; config and checkpoints kept.
	Stopped State = "STOPPED"
	// Failed: stopped by a terminal or persistent error; see the trace.
	Failed State = "FAILED"
	// Restarting: waiting out a backoff after a retryable error.
	Restarting State = "RESTARTING"
)

// States lists every state (for the state gauge).
var States = []State{Unassigned, Running, Paused, Stopped, Failed, Restarting}

// Action is a lifecycle operation requested over REST.
type Action string

// The lifecycle actions.
const (
	ActCreate  Action = "create"
	ActUpdate  Action = "update"
	ActPause   Action = "pause"
	ActResume  Action = "resume"
	ActStop    Action = "stop"
	ActRestart Action = "restart"
	ActDelete  Action = "delete"
)

// Actions lists every action.
var Actions = []Action{ActCreate, ActUpdate, ActPause, ActResume, ActStop, ActRestart, ActDelete}

// absent is the state of a connector that does not exist (before create,
// after delete).
const absent State = ""

// transitions is the lifecycle state machine: for a connector's target
// state and an action, the resulting target state. Missing entries are
// conflicts. Failed is an observed state: it behaves like Running for every
// action except that resume and restart bring it back.
var transitions = map[State]map[Action]State{
	absent: {ActCreate: Running},
	Running: {
		ActUpdate: Running, ActPause: Paused, ActResume: Running, ActStop: Stopped,
		ActRestart: Running, ActDelete: absent,
	},
	Paused: {
		ActUpdate: Paused, ActPause: Paused, ActResume: Running, ActStop: Stopped,
		ActRestart: Paused, ActDelete: absent,
	},
	Stopped: {
		ActUpdate: Stopped, ActPause: Paused, ActResume: Running, ActStop: Stopped,
		ActDelete: absent,
	},
	Failed: {
		ActUpdate: Running, ActPause: Paused, ActResume: Running, ActStop: Stopped,
		ActRestart: Running, ActDelete: absent,
	},
}

// ConflictError reports an action the connector's state does not allow.
type ConflictError struct {
	From   State
	Action Action
}

// Error explains the conflict and what to do instead.
func (e *ConflictError) Error() string {
	switch {
	case e.From == absent:
		return fmt.Sprintf("cannot %s a connector that does not exist", e.Action)
	case e.Action == ActCreate:
		return "connector already exists; use PUT /connectors/{name}/config to change its config"
	case e.From == Stopped && e.Action == ActRestart:
		return "connector is STOPPED; resume it instead of restarting it"
	}
	return fmt.Sprintf("cannot %s a connector in state %s", e.Action, e.From)
}

// Transition returns the target state after applying a to a connector in
// state from, or a *ConflictError.
func Transition(from State, a Action) (State, error) {
	to, ok := transitions[from][a]
	if !ok {
		return from, &ConflictError{From: from, Action: a}
	}
	return to, nil
}
