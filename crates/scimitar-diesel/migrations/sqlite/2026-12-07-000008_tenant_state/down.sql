DROP TABLE tenant_state;
