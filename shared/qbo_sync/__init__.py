"""qbo-sync: export a contractor platform's sent invoices and payments to QuickBooks Online."""
