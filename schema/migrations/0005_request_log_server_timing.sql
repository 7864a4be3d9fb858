ALTER TABLE `request_log` ADD `gateway_ms` real;--> statement-breakpoint
ALTER TABLE `request_log` ADD `upstream_ms` real;