from perfeval_xlsx.cli import main

main()
