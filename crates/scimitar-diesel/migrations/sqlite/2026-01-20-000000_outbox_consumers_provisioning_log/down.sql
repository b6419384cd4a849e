DROP TABLE provisioning_log;
DROP TABLE outbox_consumers;
