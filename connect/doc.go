// Package connect is binlake's connector framework: the record model
// (ChangeEvent), the Connector and Task contracts for sources and sinks, typed
// config specs, the plugin registry and the worker runtime that hosts them.
package connect
