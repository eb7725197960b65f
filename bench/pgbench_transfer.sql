-- Raw PostgreSQL baseline for the ledger bench: one row-locked conditional debit, one credit
-- and one insert per transaction. Debited accounts (1..1000) and credited ones (1001..2000) are
-- disjoint, so pgbench clients never deadlock (the ledger achieves the same by never updating
-- system accounts).
\set a random(1, 1000)
\set b random(1001, 2000)
BEGIN;
UPDATE bench_accounts SET balance = balance - 1 WHERE id = :a AND balance >= 1;
UPDATE bench_accounts SET balance = balance + 1 WHERE id = :b;
INSERT INTO bench_transfers (debit, credit, amount, created_at) VALUES (:a, :b, 1, now());
END;
