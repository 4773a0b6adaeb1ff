// Package scripts are the Backups component's shell scripts and SQL,
// embedded into the ConfigMaps its jobs mount. They run in official images
// (PostgreSQL's, the AWS CLI's), so no custom image is needed; CI runs
// shellcheck on them and runs the database ones for real against
// PostgreSQL 15 and an S3-compatible server on loopback.
package scripts

import _ "embed"

var (
	// Dump is database-backup's first step (PostgreSQL's image).
	//go:embed dump.sh
	Dump string
	// Upload is database-backup's second step (the AWS CLI's image).
	//go:embed upload.sh
	Upload string
	// FetchLatest is the restore drill's first step (the AWS CLI's image).
	//go:embed fetch-latest.sh
	FetchLatest string
	// RestoreDrill is the restore drill's second step (PostgreSQL's image).
	//go:embed restore-drill.sh
	RestoreDrill string
	// AppBackup is app-backup (the AWS CLI's image).
	//go:embed app-backup.sh
	AppBackup string
	// BackupUser creates the backup role (psql, as the master user).
	//go:embed backup-user.sql
	BackupUser string
)
