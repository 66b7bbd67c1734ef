from stepbatch.cli import main

main()
