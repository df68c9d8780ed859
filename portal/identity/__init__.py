"""Who is using the portal: server-side sessions now; card login, acting for others (代理) and
"my applications" follow (issue 5)."""
