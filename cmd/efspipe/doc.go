// Command efspipe runs the pipeline locally and drives it in the cloud.
//
//	efspipe run [flags] [FILE]     run the state machine locally on FILE (default: the bundled sample)
//	efspipe status [flags] JOB     what is done, verified and pending for a job
//	efspipe replay [flags] JOB     resume a job from its checkpoint
//	efspipe list [flags]           the jobs on the mount, most recently active first
//	efspipe help [COMMAND]         the commands, or one command's usage and flags
//	efspipe --version              the module version and VCS revision
//	efspipe page [flags] JOB N     page N of a published job, checked against its manifest
//	efspipe verify [flags] JOB     re-check every published page of a job
//
// Invariant: every subcommand goes through the same stage handlers and the
// same embedded definition the Lambdas run; the CLI adds only flags,
// progress display and exit codes (0 done, 1 the job failed, 2 usage).
// Each command is one line of the commands table in main.go and parses
// its flags with parseFlags, so help works alike for all of them.
package main
