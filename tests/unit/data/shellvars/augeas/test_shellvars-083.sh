MyFunc()
{
 echo
}
