WITH w AS (SELECT id FROM ledger_accounts WHERE community_id = $1 AND user_id = $2),
s AS (SELECT id FROM ledger_accounts WHERE community_id = $1 AND user_id IS NULL AND kind = 'issuing'),
ins AS (INSERT INTO ledger_transfers (idempotency_key, community_id, debit_account_id, credit_account_id, amount, kind, reference, memo, reason, actor_id, created_at) SELECT CAST($3 AS varchar), CAST($1 AS bigint), s.id, w.id, CAST($4 AS bigint), CAST($5 AS varchar), CAST($6 AS varchar), CAST($7 AS varchar), CAST($8 AS jsonb), CAST($9 AS bigint), CAST($10 AS timestamptz) FROM w, s ON CONFLICT DO NOTHING RETURNING id, amount, credit_account_id),
upd AS (UPDATE ledger_accounts a SET balance = a.balance + ins.amount FROM ins WHERE a.id = ins.credit_account_id RETURNING a.id) SELECT id FROM ins
