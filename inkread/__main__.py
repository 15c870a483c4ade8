from inkread.cli import main

main()
