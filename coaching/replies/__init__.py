"""The manager-lead loop: a regional lead reads a store's coaching and replies or recognises."""
