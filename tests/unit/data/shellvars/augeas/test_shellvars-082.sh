SetDir() # hello
{
 echo
}
